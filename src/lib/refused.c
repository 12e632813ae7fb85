/*
 * refused.c - DESIGN invariant 1: the classes of data probity never holds
 * or scores. Names (categories, fields, features, purposes, enum values)
 * and free text (descriptions, bin texts, reason codes) are read as words
 * and matched against the single terms and two-word phrases ("a_b") of
 * each class, and searched for its CJK terms.
 *
 * Reading. UTF-8 is decoded. Letters that look like Latin ones (Cyrillic
 * а е о р с у х і ..., Greek, fullwidth, small capitals, mathematical and
 * enclosed letters) and Latin letters with diacritics fold to ASCII;
 * zero-width characters, soft hyphens, bidi controls, combining marks and
 * variation selectors are dropped, so they neither split nor hide a word.
 * Any other letter of a Latin, Greek or Cyrillic block stands for any
 * letter in a word that also holds a Latin letter ("r\u0511ligion" still
 * reads as religion). A word of Cyrillic and Greek letters alone is read
 * by its look-alikes only, as UTS #39 flags a word only for mixing
 * scripts: more of them fold there (г, σ, ό, ...: every one confusables.txt
 * gives as one Latin letter, with or without an accent), so "гасе" and
 * "νότε" still read as race and vote, and the rest match no letter, so a
 * Russian or Greek word is not every term of its length ("долг", debt, is
 * no "vote"); but in a word of five letters or more all of whose letters
 * but one are look-alikes, that one stands for any letter, so a term
 * spelled in look-alikes with one the tables leave out is still the term
 * ("ргауел": л for r). Cyrillic п looks like n, though confusables.txt
 * does not say so: there it is read as n ("оріпіоп"), and as any letter
 * in a word of five letters or more whose other letters are all
 * look-alikes ("поӏітісаӏ"). The word is each one read (below): a
 * camelCase word, a whole run, a run read with its digits as letters
 * (digits are of no script), single letters joined, a piece of a long run.
 * Everything else (ASCII punctuation, spaces, other scripts, bytes that are
 * not UTF-8) separates words. A run of letters and digits is split between
 * letters and digits ("religion2") and at camelCase boundaries ("raceCode",
 * "HTTPServer"), each word lower-cased; the whole letter run lower-cased is
 * read as one word too, so ALLCAPS and odd case ("ReligioN") cannot hide,
 * and a run that mixes letters and digits is also read with its digits as
 * letters (0 o, 1 i, 3 e, 4 a, 5 s, 7 t: "h1v"). Single letters in a row
 * are joined ("r e l i g i o n"). Every word of a text is read, however
 * long: the work grows with the length, and a run of over 256 characters is
 * read in overlapping pieces. The polytonic letters of Greek Extended are
 * read as their base letter, as those with a tonos are, so they neither
 * split nor hide a word ("ν\u1f79τε" is "νότε").
 *
 * Matching. A word matches a term when
 *  1. stem: the word or one of its forms equals the term. The forms drop
 *     -s, -es, -ies (to -y) and, where at least four letters remain,
 *     -ing, -ed, -er, -ers (also with an -e restored or a doubled last
 *     consonant undone: "protested", "worshippers"); -ism and -ist swap
 *     and drop ("racism" is race, "atheist" atheism, "hinduism" hindu);
 *  2. phrase: two words in a row match "a_b" (each by rule 1), or one word
 *     spells it ("tradeunion", "sexlife", "partymember", "searchlog");
 *  3. compound: the word is a refused single term joined to a word of the
 *     lists or to a field-name part (code, type, id, status, data, member,
 *     dues, ...), in either order ("mentalhealth", "racecode", "faceid");
 *  4. affix: the word starts or ends with a refused term of five or more
 *     letters, or with a phrase spelled as one word ("healthcare",
 *     "heterosexual", "tradeunionist");
 *  5. joined: two words in a row with no space between them read as one
 *     word, and the whole text with its separators left out, match by
 *     rule 1 only ("geo_location", "Finger-Print", "where_a_bouts", "Geo
 *     Location"). A term split by a separator is still that term, but
 *     rules 3 and 4 would find terms in the joins of ordinary words
 *     ("men_tally"), and words a space apart are words of a sentence
 *     ("past or present" is no pastor). A join with a letter read as any
 *     letter is not matched: two words of another script would match a
 *     term by their length alone.
 * A term marked '<' never counts at the end of a longer word (so "mental"
 * is not found in "fundamental", "rally" in "generally", "election" in
 * "selection", "latitude" in "platitude"); one marked '=' matches only
 * as itself or its plural ("caste" not "casting", "rehab" not
 * "rehabilitation", "sunni" not "sunning"). Words that contain a term by
 * accident (hospitality, typeface, faithfully, ...) skip rules 3 and 4
 * (`ordinary`), and two-word phrases of credit data (credit search,
 * credit union, bill protest, audit opinion, minority shareholder, voting
 * rights, face value, good faith, financial health, Church Street, ...)
 * are not read as terms at all (`ordinary_phrases`). The marks and lists
 * come from running every word of an English word list through the check.
 * Identifiers of the first-class schemes belong to people who may be
 * described in pinyin or German, so the terms a field name of theirs
 * would use are listed too ("minzu", "dangyuan", "konfession",
 * "gewerkschaft"): single pinyin syllables are left out, as each spells
 * many words ("xinyang" is belief and a city, "zhengzhi" politics and
 * rectification), and phrases of them are listed instead.
 *
 * CJK. Chinese and Japanese put no spaces between words, so a CJK term is
 * found anywhere in a text, characters and all (ignorable ones inside are
 * skipped). Any term is then also found across two words that happen to
 * meet: "员工会议" (staff meeting) holds 工会 (trade union), "女性生活"
 * (women's daily ...) 性生活 (sex life), "征信访问" (credit-report access)
 * 信访 (petitioning), "市政治理" (municipal governance) 政治 (politics),
 * "办公位置" (office location) 位置 (location). So the CJK terms are the
 * compounds that name a class on their own (政治面貌 political status,
 * 工会会员 union member, 位置数据 location data, not 政治, 工会, 位置),
 * each in simplified and traditional characters; where a short term is
 * kept because it is the word a form or a field would use (健康 health,
 * 上访 petitioning the authorities), the phrases of credit data that hold
 * it by accident are listed in `ordinary_cjk` (财务健康 financial health,
 * 线上访问 online access).
 *
 * The lists err on the side of refusing: a false refusal costs a rename
 * in a policy file; a false acceptance scores someone's faith or health.
 * Words that are ordinary in credit data stay out as single terms and are
 * refused only in phrases: "party" (a contract party), "union" (a credit
 * union), "strike" (struck off), "movement" (account movements), "search"
 * (a credit search), "treatment" (tax treatment), "petition" (a winding-up
 * petition, the petition date), "comment", "trip"; "denomination" (of a
 * note or a bond) is not a term at all.
 * This table is code, not configuration, so no policy can switch it off.
 *
 * Lookups. The lists stay text, the one place a term is written; on first
 * use they are read into hash sets (the index at the end of this file), so
 * a word costs a few probes however long the lists grow, where scanning
 * them cost some 70 us a word and a name of many short words milliseconds.
 * Where several entries match, the first in the lists wins, as when they
 * were scanned: tests/test_refused.c keeps the scans and holds the index
 * to their answer for every name it makes.
 */
#include "internal.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct refused_class {
    const char *name;
    const char *terms; /* space-separated; "a_b" means the phrase "a b" */
    const char *cjk;   /* space-separated, found anywhere in a text (see find_cjk) */
};

static const struct refused_class classes[] = {
    {"political opinion or activity",
     "political politics politician partisan party_member party_membership party_affiliation "
     "party_dues party_card party_donation party_activist vote voted< voting< voter ballot "
     "referendum election< electoral protest protester demonstration demonstrator rally< "
     "hunger_strike riot rioter sign_petition petition_sign petition_signature "
     "petition_signatory petition_campaign online_petition activism activist dissent dissident "
     "opinion ideology ideological communist communism socialist nationalist nationalism "
     "separatist extremist cpc_member cpc_membership ccp_member ccp_membership dangyuan "
     "zhengzhi_mianmao politisch parteimitglied parteizugehoerigkeit",
     "政治面貌 党员 黨員 入党 入黨 抗议 抗議 示威 上访 上訪"},
    {"speech",
     "speech utterance censorship censored online_post online_comment forum_post "
     "blog blogger microblog tweet retweet hashtag",
     "言论 言論"},
    {"religion or belief",
     "religion religious belief believer faith church mosque temple synagogue worship prayer< pray "
     "atheist christian christianity muslim islam jewish judaism jew hindu buddhist sikh jain "
     "taoist falun catholic protestant sunni= shia shiite evangelical baptist methodist lutheran "
     "anglican pentecostal mormon adventist quaker jehovah scientology denominational "
     "congregation parish clergy imam rabbi= priest< pastor sermon bible quran koran torah hajj "
     "ramadan pilgrimage spiritual spirituality creed< sect kosher halal_diet halal_food "
     "halal_meal zongjiao konfession kirchensteuer",
     "宗教 信仰 佛教 基督 天主教 伊斯兰 伊斯蘭 穆斯林 法轮 法輪"},
    {"ethnicity or race",
     "ethnic ethnicity race racial skin_colour skin_color skin_tone caste= tribe tribal "
     "national_origin nationality citizenship foreign_worker foreigner migrant immigrant "
     "immigration minority uyghur uighur tibetan kazakh roma_people romani gypsy sinti kurd "
     "kurdish rohingya aboriginal indigenous hispanic latino latina caucasian african_american "
     "ancestry mother_tongue native_language minzu",
     "民族 种族 種族"},
    {"health",
     "health medical medicine diagnosis diagnose disease illness< sick sickness disability "
     "disabled pregnancy pregnant mental< psychiatric psychiatry psychological hiv medication "
     "prescription hospital patient vaccination vaccinate vaccine cancer tumour tumor oncology "
     "chemotherapy diabetes diabetic hepatitis tuberculosis dementia alzheimer autism autistic "
     "epilepsy schizophrenia bipolar depression anxiety obesity infertility abortion "
     "miscarriage addiction addict alcoholism alcoholic drug_use drug_abuse drug_treatment "
     "substance_abuse rehab= overdose surgery symptom therapy therapist clinic clinical handicap "
     "wheelchair blood< bmi jiankang gesundheit krankheit behinderung",
     "健康 疾病 病史 残疾 殘疾 怀孕 懷孕 艾滋 愛滋 精神病"},
    {"biometrics",
     "biometric biometrics face facial fingerprint iris retina voiceprint faceprint palmprint "
     "handprint dna genetic genome gait= selfie liveness",
     "指纹 指紋 人脸 人臉 刷脸 刷臉 虹膜 声纹 聲紋 生物识别 生物識別"},
    {"sex life or sexual orientation",
     "sex sexual sexuality orientation sex_life sex_worker gender< cisgender lgbt lgbtq gay "
     "lesbian "
     "homosexual bisexual transgender queer prostitution dating_app online_dating",
     "性取向 同性恋 同性戀"},
    {"trade-union membership",
     "trade_union union_member union_membership union_dues union_fee union_card union_rep "
     "union_activity labour_union labor_union unionist unionised unionized unionisation "
     "unionization shop_steward strike_participation strike_action strike_pay strike_ballot "
     "on_strike general_strike picket picketing walkout gewerkschaft",
     "工会会员 工會會員 工会成员 工會成員 加入工会 加入工會 罢工 罷工"},
    {"internet searches",
     "search_history search_query search_term search_log search_keyword search_engine "
     "searches= web_search internet_search online_search google_search browsing browser_history "
     "browsing_history",
     "搜索记录 搜索記錄 搜索历史 搜索歷史 浏览记录 瀏覽記錄"},
    {"social-media content",
     "social_media social_network social_networking weibo wechat twitter facebook instagram "
     "tiktok douyin youtube reddit snapchat whatsapp linkedin vkontakte follower likes= "
     "friend_list friends_list",
     "社交媒体 社交媒體 微博 朋友圈 抖音"},
    {"location tracks",
     "gps geolocation geotag geofence whereabouts location_track location_history "
     "location_data location_log location_trace location_visit visited_location places_visited "
     "movement_history movement_log movement_record movement_track movement_trace "
     "movement_pattern travel_history travel_record travel_log travel_pattern trip_history "
     "trip_log trip_record train_trip train_journey bus_trip metro_trip subway_trip taxi_trip "
     "flight_history flight_record border_crossing exit_entry entry_exit itinerary cell_tower "
     "latitude< longitude coordinate= geo_coordinate geo_lat geo_lng geo_lon geo_long lat_long "
     "lat_lng lat_lon checkin= check_ins",
     "位置数据 位置數據 位置信息 位置資訊 位置记录 位置記錄 行踪 行蹤 行动轨迹 行動軌跡 "
     "出行记录 出行記錄 经纬度 經緯度"},
};
#define NCLASSES (sizeof classes / sizeof classes[0])

/* Parts of field names that may stand next to a refused term in one word
 * (rule 3): "racecode", "faceid", "hivstatus". */
static const char partners[] =
    "code codes type id flag status data info record history log group category class score "
    "level count member membership dues life care cost fee rate test result positive negative "
    "detail list indicator marker tag label attendance participation activity affiliation "
    "preference identity origin background trait condition treatment visit event scan match "
    "hash template image photo sample check map";

/* Ordinary words holding a term by accident: rules 3 and 4 skip them. */
static const char ordinary[] =
    "hospitality hospitable typeface faithful faithfully faithfulness diatribe hindustan "
    "islamabad bloodstock";

/* Two-word phrases of credit data whose words are not read as terms. */
static const char ordinary_phrases[] =
    "credit_search credit_searches hard_search soft_search credit_union european_union "
    "bankruptcy_petition insolvency_petition liquidation_petition creditor_petition "
    "bill_protest cheque_protest check_protest protest_date protest_register protested_bill "
    "protested_cheque protested_check protested_note protested_draft protested_payment "
    "audit_opinion auditor_opinion qualified_opinion unqualified_opinion adverse_opinion "
    "legal_opinion minority_shareholder minority_shareholding minority_interest minority_stake "
    "minority_holding minority_investor voting_right voting_share voting_stock voting_power "
    "voting_control voting_interest face_value face_amount good_faith bad_faith "
    "financial_health credit_health church_street church_road church_lane temple_bar past_or";

/* CJK phrases of credit data that hold a CJK term across a word boundary
 * ("财务健康" financial health, "健康发展" healthy development, "线上访问"
 * online access): a term found inside one is not counted. */
static const char ordinary_cjk[] =
    "财务健康 財務健康 健康发展 健康發展 信用健康 经营健康 經營健康 企业健康 企業健康 "
    "线上访 線上訪 网上访 網上訪 中华民族 中華民族 诚信仰 誠信仰";

#define WORD_MAX 64 /* a word is read by its first and last 63 letters */
#define TOK_MAX 256 /* a run of letters and digits is read in pieces of this size */
#define NSTEMS 24
#define NO_LETTER '#' /* a letter of a word that matches no letter of a term */
#define ALIKE 0x80    /* on a letter of a word as read: see alike[] and unwild */
#define ALIKE_WORD 5  /* letters of a word of look-alikes that may hold one other (unwild) */

struct hit {
    int cls; /* -1: none yet */
    const char *term;
    size_t tn;
    size_t at;     /* where in the text the word holding it starts, about */
    size_t probes; /* lookups and keys compared (prb_refused_probes) */
};

/* ----------------------------------------------------------------- lists */

/* Does w (n letters, '?' matching any letter) equal t? */
static int eqw(const char *w, const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != t[i] && w[i] != '?')
            return 0;
    return 1;
}

/* A term's mark: '=' the word or its plural only (no other forms, no
 * compounds), '<' never at the end of a longer word. Takes it off tn. */
static int mark(const char *t, size_t *tn)
{
    char m = t[*tn - 1];
    if (m != '=' && m != '<')
        return 0;
    --*tn;
    return m;
}

/* Runs the body for each space-separated entry t (tn bytes) of list. */
#define EACH(list, t, tn)                                                                          \
    for (const char *t = (list) + strspn((list), " "), *t##_end = t; *t;                           \
         t = t##_end + strspn(t##_end, " "))                                                       \
        for (size_t tn = strcspn(t, " "); tn && ((t##_end = t + tn), 1); tn = 0)

/* --------------------------------------------------------------- stems */

struct stems {
    char s[NSTEMS][WORD_MAX];
    size_t n[NSTEMS], k;
    int other[NSTEMS]; /* more than the word or its plural */
    int plural;        /* the forms being added are plurals */
};

static void add(struct stems *st, const char *w, size_t n, const char *tail)
{
    size_t tl = strlen(tail);
    if (st->k == NSTEMS || n + tl >= WORD_MAX || n + tl == 0)
        return;
    memcpy(st->s[st->k], w, n);
    memcpy(st->s[st->k] + n, tail, tl);
    st->n[st->k] = n + tl;
    st->other[st->k] = st->k && !st->plural;
    st->s[st->k++][n + tl] = 0;
}

static int ends(const char *w, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n > k && !memcmp(w + n - k, suf, k);
}

static int vowel(char c)
{
    return strchr("aeiou", c) != NULL;
}

/* A verb stem s that had -ing, -ed or -er: s, s+e, and s with a doubled
 * last consonant undone ("worshipp" -> "worship"). */
static void verb(struct stems *st, const char *s, size_t n)
{
    if (n < 4)
        return;
    add(st, s, n, "");
    add(st, s, n, "e");
    if (s[n - 1] == s[n - 2] && !vowel(s[n - 1]))
        add(st, s, n - 1, "");
}

static void stems(struct stems *st, const char *w, size_t n)
{
    size_t b = n; /* the word without a plural -s */
    st->k = 0;
    st->plural = 1;
    add(st, w, n, "");
    if (n > 4 && ends(w, n, "ies"))
        add(st, w, n - 3, "y");
    if (n > 3 && ends(w, n, "es") && strchr("sxzho", w[n - 3])) /* taxes, churches */
        add(st, w, n - 2, "");
    if (n > 3 && ends(w, n, "s") && !ends(w, n, "ss")) {
        add(st, w, n - 1, "");
        b = n - 1;
    }
    st->plural = 0;
    if (ends(w, n, "ing"))
        verb(st, w, n - 3);
    if (ends(w, n, "ed")) {
        verb(st, w, n - 2);
        if (n > 5 && ends(w, n, "ied"))
            add(st, w, n - 3, "y");
    }
    if (ends(w, b, "er"))
        verb(st, w, b - 2);
    if (ends(w, b, "ism") || ends(w, b, "ist")) {
        size_t r = b - 3;
        add(st, w, r, "ism");
        add(st, w, r, "ist");
        if (r >= 3) {
            add(st, w, r, "");
            add(st, w, r, "e");
        }
    }
}

/* ---------------------------------------------------------------- rules */

static int found(struct hit *h, size_t c, const char *t, size_t tn)
{
    h->cls = (int)c;
    h->term = t;
    h->tn = tn;
    return 1;
}

/* The lookups in the lists, defined with the index they use at the end
 * of this file. */

/* Rules 1 and 2 for one form: a single term, or a phrase spelled as one
 * word. other: the form is more than the word or its plural. */
static int term_equal(struct hit *h, const char *w, size_t n, int other);
/* Is a form of the word an ordinary word holding a term by accident? */
static int ordinary_word(struct hit *h, const struct stems *st);
/* Rules 3 and 4 for one form w. */
static int term_inside(struct hit *h, const char *w, size_t n);
/* Rule 2 for two words in a row. */
static int check_phrase(struct hit *h, const char *a, size_t an, const char *b, size_t bn);
/* Do a and b (or b's plural) make an ordinary phrase of credit data? */
static int ordinary_phrase(struct hit *h, const char *a, size_t an, const char *b, size_t bn);
/* Finds a CJK term of a class anywhere in text (see "CJK" above). */
static int find_cjk(struct hit *h, const char *text);

/* Rules 1-4 for one word. */
static int check_word(struct hit *h, const char *w, size_t n)
{
    struct stems st;
    if (n < 2)
        return 0;
    if (n >= WORD_MAX) /* read by its first and its last letters */
        return check_word(h, w, WORD_MAX - 1) ||
               check_word(h, w + n - (WORD_MAX - 1), WORD_MAX - 1);
    stems(&st, w, n);
    for (size_t i = 0; i < st.k; i++)
        if (term_equal(h, st.s[i], st.n[i], st.other[i]))
            return 1;
    if (ordinary_word(h, &st))
        return 0;
    for (size_t i = 0; i < st.k; i++)
        if (term_inside(h, st.s[i], st.n[i]))
            return 1;
    return 0;
}

/* Rule 5: a and b read as one word, by rule 1 only. */
static int check_joined(struct hit *h, const char *a, size_t an, const char *b, size_t bn)
{
    struct stems st;
    char w[WORD_MAX];
    if (an + bn >= WORD_MAX || an + bn < 2 || memchr(a, '?', an) || memchr(b, '?', bn))
        return 0;
    memcpy(w, a, an);
    memcpy(w + an, b, bn);
    stems(&st, w, an + bn);
    for (size_t i = 0; i < st.k; i++)
        if (term_equal(h, st.s[i], st.n[i], st.other[i]))
            return 1;
    return 0;
}

/* ------------------------------------------------------------- reading */

enum { SEP, SKIP, LOWER, UPPER, DIGIT, WILD };

struct scan {
    struct hit hit;
    char tok[TOK_MAX]; /* the current run, ASCII as read (case kept), '?' wild, ALIKE */
    unsigned char kind[TOK_MAX];
    unsigned char latin[TOK_MAX]; /* written as a Latin letter (see latin_letter) */
    size_t tn;
    char prev[TOK_MAX]; /* the last word, read alone once the next is known */
    size_t pn;
    int prev_ordinary;    /* the last word ended an ordinary phrase */
    char spell[WORD_MAX]; /* single letters in a row */
    size_t sn;
    int spell_latin;       /* one of them is a Latin letter */
    char joined[WORD_MAX]; /* every word of the text run together (rule 5) */
    size_t jn, words;
    int unjoined; /* the words did not fit in joined, or made an ordinary phrase */
    int blank;    /* a space since the last word: the next is not joined to it */
    size_t tok_at, prev_at, spell_at; /* where the run, the last word, the letters began */
};

/* Decodes one UTF-8 character; invalid bytes come back as 0xFFFD. */
static uint32_t utf8(const unsigned char *p, size_t *len)
{
    uint32_t c = p[0];
    size_t n = c < 0x80             ? 1
               : (c & 0xe0) == 0xc0 ? 2
               : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4
                                    : 0;
    *len = 1;
    if (!n)
        return 0xfffd;
    c = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0xfffd;
        c = c << 6 | (p[i] & 0x3f);
    }
    *len = n;
    return c;
}

/* Latin-1 letters U+00C0-U+00FF and Latin Extended-A U+0100-U+017F by base letter. */
static const char latin1[] = "AAAAAA.CEEEEIIIIDNOOOOO.OUUUUY..aaaaaa.ceeeeiiiidnooooo.ouuuuy.y";
static const char latin_a[] = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi..JjKkkLlLlLlLl"
                              "LlNnNnNnnNnOoOoOo..RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

_Static_assert(sizeof latin1 == 65 && sizeof latin_a == 129, "one letter per code point");

/* Other letters that look like Latin ones. */
static const struct {
    uint32_t cp;
    char c;
} confusable[] = {
    /* Cyrillic */
    {0x430, 'a'},
    {0x435, 'e'},
    {0x43e, 'o'},
    {0x440, 'p'},
    {0x441, 'c'},
    {0x443, 'y'},
    {0x445, 'x'},
    {0x456, 'i'},
    {0x458, 'j'},
    {0x455, 's'},
    {0x501, 'd'},
    {0x4bb, 'h'},
    {0x51b, 'q'},
    {0x51d, 'w'},
    {0x4cf, 'l'},
    {0x451, 'e'},
    {0x457, 'i'},
    {0x43a, 'k'},
    {0x432, 'b'},
    {0x43c, 'm'},
    {0x43d, 'h'},
    {0x442, 't'},
    {0x475, 'v'},
    {0x4af, 'y'},
    {0x410, 'A'},
    {0x412, 'B'},
    {0x415, 'E'},
    {0x41a, 'K'},
    {0x41c, 'M'},
    {0x41d, 'H'},
    {0x41e, 'O'},
    {0x420, 'P'},
    {0x421, 'C'},
    {0x422, 'T'},
    {0x425, 'X'},
    {0x423, 'Y'},
    {0x406, 'I'},
    {0x408, 'J'},
    {0x405, 'S'},
    {0x401, 'E'},
    {0x407, 'I'},
    {0x4ae, 'Y'},
    {0x500, 'D'},
    {0x51a, 'Q'},
    {0x51c, 'W'},
    {0x4c0, 'I'},
    /* Greek */
    {0x3b1, 'a'},
    {0x3bf, 'o'},
    {0x3c1, 'p'},
    {0x3bd, 'v'},
    {0x3c5, 'u'},
    {0x3b9, 'i'},
    {0x3ba, 'k'},
    {0x3c4, 't'},
    {0x3c7, 'x'},
    {0x3b5, 'e'},
    {0x3b3, 'y'},
    {0x3c9, 'w'},
    {0x3b7, 'n'},
    {0x3f2, 'c'},
    {0x3f3, 'j'},
    {0x391, 'A'},
    {0x392, 'B'},
    {0x395, 'E'},
    {0x396, 'Z'},
    {0x397, 'H'},
    {0x399, 'I'},
    {0x39a, 'K'},
    {0x39c, 'M'},
    {0x39d, 'N'},
    {0x39f, 'O'},
    {0x3a1, 'P'},
    {0x3a4, 'T'},
    {0x3a5, 'Y'},
    {0x3a7, 'X'},
    /* Armenian */
    {0x585, 'o'},
    {0x57d, 'u'},
    {0x570, 'h'},
    /* Latin small capitals and IPA */
    {0x251, 'a'},
    {0x261, 'g'},
    {0x262, 'g'},
    {0x269, 'i'},
    {0x26a, 'i'},
    {0x274, 'n'},
    {0x280, 'r'},
    {0x28f, 'y'},
    {0x299, 'b'},
    {0x29c, 'h'},
    {0x29f, 'l'},
    {0x1d00, 'a'},
    {0x1d04, 'c'},
    {0x1d05, 'd'},
    {0x1d07, 'e'},
    {0x1d0a, 'j'},
    {0x1d0b, 'k'},
    {0x1d0d, 'm'},
    {0x1d0f, 'o'},
    {0x1d18, 'p'},
    {0x1d1b, 't'},
    {0x1d1c, 'u'},
    {0x1d20, 'v'},
    {0x1d21, 'w'},
    {0x1d22, 'z'},
    {0xa731, 's'},
};

/* More Cyrillic and Greek letters that look like Latin ones, read as such
 * in a word of Cyrillic and Greek letters alone: with the table above,
 * every one of those scripts that UTS #39's confusables.txt gives as one
 * Latin letter (and the other case of some), and those with an accent by
 * their base letter. Such a word is read by its look-alikes (see
 * unwild), so one left out would hide a short term spelled with it, or a
 * term spelled with two. In a word that mixes scripts they stand for any
 * letter, as the other letters of those scripts do: read as their
 * look-alike there, they would only narrow what such a word matches. */
static const struct {
    uint32_t cp;
    char c;
} alike[] = {
    /* Cyrillic */
    {0x433, 'r'},
    {0x42c, 'b'},
    {0x461, 'w'},
    {0x460, 'W'},
    {0x474, 'V'},
    {0x4ba, 'H'},
    {0x4bd, 'e'},
    {0x491, 'r'},
    {0x50c, 'G'},
    {0x50d, 'g'},
    /* п looks like n, which confusables.txt does not say: see NEAR_N */
    {0x43f, '?'},
    /* Cyrillic with a diacritic, by its base letter */
    {0x400, 'E'},
    {0x40c, 'K'},
    {0x40e, 'Y'},
    {0x450, 'e'},
    {0x453, 'r'},
    {0x45c, 'k'},
    {0x45e, 'y'},
    {0x476, 'V'},
    {0x477, 'v'},
    {0x4d0, 'A'},
    {0x4d1, 'a'},
    {0x4d2, 'A'},
    {0x4d3, 'a'},
    {0x4d6, 'E'},
    {0x4d7, 'e'},
    {0x4e6, 'O'},
    {0x4e7, 'o'},
    {0x4ee, 'Y'},
    {0x4ef, 'y'},
    {0x4f0, 'Y'},
    {0x4f1, 'y'},
    {0x4f2, 'Y'},
    {0x4f3, 'y'},
    /* Greek */
    {0x3c3, 'o'},
    {0x3f1, 'p'},
    {0x37f, 'J'},
    {0x3d2, 'Y'},
    {0x3dc, 'F'},
    {0x3f9, 'C'},
    {0x3fa, 'M'},
    /* Greek with a tonos or dialytika, by its base letter */
    {0x386, 'A'},
    {0x388, 'E'},
    {0x389, 'H'},
    {0x38a, 'I'},
    {0x38c, 'O'},
    {0x38e, 'Y'},
    {0x390, 'i'},
    {0x3aa, 'I'},
    {0x3ab, 'Y'},
    {0x3ac, 'a'},
    {0x3ad, 'e'},
    {0x3ae, 'n'},
    {0x3af, 'i'},
    {0x3b0, 'u'},
    {0x3ca, 'i'},
    {0x3cb, 'u'},
    {0x3cc, 'o'},
    {0x3cd, 'u'},
    {0x3ce, 'w'},
    {0x3d3, 'Y'},
    {0x3d4, 'Y'},
};

/* Greek Extended U+1F00-U+1FFF, the polytonic letters, by the base letter
 * of their canonical decomposition (U+1F79 omicron with oxia is U+03CC,
 * omicron with tonos), read as the tonos letters of alike[] are: as that
 * letter in a word of Cyrillic and Greek letters alone, as any letter in
 * a word that holds a Latin one. '?': a letter whose base (capital
 * omega) looks like no Latin one; '.': no letter (spacing accents,
 * unassigned), which separates words as it did. */
static const char greek_ext[] = "aaaaaaaaAAAAAAAAeeeeee..EEEEEE..nnnnnnnnHHHHHHHHiiiiiiiiIIIIIIII"
                                "oooooo..OOOOOO..uuuuuuuu.Y.Y.Y.Ywwwwwwww????????aaeenniioouuww.."
                                "aaaaaaaaAAAAAAAAnnnnnnnnHHHHHHHHwwwwwwww????????aaaaa.aaAAAAA.i."
                                "..nnn.nnEEHHH...iiii..iiIIII....uuuuppuuYYYYP.....www.wwOO???...";

_Static_assert(sizeof greek_ext == 257, "one letter per code point");

static int ignorable(uint32_t c)
{
    return c == 0xad || c == 0x34f || c == 0xfeff || (c >= 0x300 && c <= 0x36f) ||
           (c >= 0x180b && c <= 0x180e) || (c >= 0x1ab0 && c <= 0x1aff) ||
           (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x200b && c <= 0x200f) ||
           (c >= 0x202a && c <= 0x202e) || (c >= 0x2060 && c <= 0x2064) ||
           (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe00 && c <= 0xfe0f) ||
           (c >= 0xfe20 && c <= 0xfe2f) || (c >= 0xe0000 && c <= 0xe01ef);
}

/* Letters of the Latin, Greek and Cyrillic blocks not folded: wildcards. */
static int other_letter(uint32_t c)
{
    return (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) || (c >= 0x250 && c <= 0x2af) ||
           (c >= 0x370 && c <= 0x3ff && c != 0x37e && c != 0x387) ||
           (c >= 0x400 && c <= 0x52f && !(c >= 0x482 && c <= 0x489)) ||
           (c >= 0x1d00 && c <= 0x1dbf) || (c >= 0x1e00 && c <= 0x1eff) ||
           (c >= 0x1f00 && c <= 0x1fff && greek_ext[c - 0x1f00] != '.') ||
           (c >= 0x2c60 && c <= 0x2c7f) || (c >= 0xa720 && c <= 0xa7ff) ||
           (c >= 0xab30 && c <= 0xab6f);
}

/* Is letter c written in the Latin script: ASCII, a Latin block, or a
 * fullwidth, mathematical or enclosed Latin letter? Cyrillic, Greek and
 * Armenian letters are not, even those read as a Latin one. */
static int latin_letter(uint32_t c)
{
    return c < 0x80 || (c >= 0xc0 && c <= 0x2af) || (c >= 0x1d00 && c <= 0x1dbf) ||
           (c >= 0x1e00 && c <= 0x1eff) || (c >= 0x2c60 && c <= 0x2c7f) ||
           (c >= 0xa720 && c <= 0xa7ff) || (c >= 0xab30 && c <= 0xab6f) ||
           (c >= 0xff21 && c <= 0xff5a) || (c >= 0x24b6 && c <= 0x24e9) ||
           (c >= 0x1d400 && c <= 0x1d6a3) || (c >= 0x1f130 && c <= 0x1f189);
}

/* What character c is to the reader; *out gets its ASCII form. */
static int classify(uint32_t c, char *out)
{
    char a = 0;
    if (c < 0x80) {
        *out = (char)c;
        if (c >= 'a' && c <= 'z')
            return LOWER;
        if (c >= 'A' && c <= 'Z')
            return UPPER;
        return c >= '0' && c <= '9' ? DIGIT : SEP;
    }
    if (ignorable(c))
        return SKIP;
    if (c >= 0xc0 && c <= 0xff)
        a = latin1[c - 0xc0];
    else if (c >= 0x100 && c <= 0x17f)
        a = latin_a[c - 0x100];
    else if ((c >= 0xff21 && c <= 0xff3a) || (c >= 0xff41 && c <= 0xff5a))
        a = (char)(c - 0xff21 + 'A');
    else if (c >= 0xff10 && c <= 0xff19)
        a = (char)(c - 0xff10 + '0');
    else if (c >= 0x1d400 && c <= 0x1d6a3)
        a = (char)((c - 0x1d400) % 52 < 26 ? 'A' + (c - 0x1d400) % 52
                                           : 'a' + (c - 0x1d400) % 52 - 26);
    else if (c >= 0x1d7ce && c <= 0x1d7ff)
        a = (char)('0' + (c - 0x1d7ce) % 10);
    else if (c >= 0x24b6 && c <= 0x24cf)
        a = (char)('A' + c - 0x24b6);
    else if (c >= 0x24d0 && c <= 0x24e9)
        a = (char)('a' + c - 0x24d0);
    else if (c >= 0x1f130 && c <= 0x1f189)
        a = (char)('A' + (c - 0x1f130) % 26);
    else
        for (size_t i = 0; i < sizeof confusable / sizeof confusable[0]; i++)
            if (confusable[i].cp == c)
                a = confusable[i].c;
    if (a && a != '.')
        return classify((unsigned char)a, out);
    if (other_letter(c)) {
        *out = '?';
        if (c >= 0x1f00 && c <= 0x1fff && greek_ext[c - 0x1f00] != '?')
            *out = (char)(greek_ext[c - 0x1f00] | ALIKE);
        for (size_t i = 0; i < sizeof alike / sizeof alike[0]; i++)
            if (alike[i].cp == c)
                *out = (char)(alike[i].c | ALIKE);
        return WILD;
    }
    return SEP;
}

/* ASCII and Unicode spaces, which part the words of a sentence (rule 5). */
static int space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == ' ' || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

#define NEAR_N (ALIKE | '?') /* п on a letter of a word as read */

/* A letter read as any letter ('?', or one of alike[] marked ALIKE)
 * stands for one only in a word that holds a Latin letter
 * ("r\u0511ligion", "rеlиgion"): there it is a look-alike the tables do
 * not fold. In a word of Cyrillic or Greek letters alone it is a letter of
 * that script, which no term holds, so it matches none, else every such
 * word would match the terms of its length ("долг", debt, read "?o??" is
 * "vote"); a look-alike there is read as its Latin letter, so "гасе" is
 * still race. But a word of five letters or more all of whose letters
 * but one are look-alikes is a term spelled in them with one the tables
 * leave out ("ргауел", л for r; "геӏіԍіоп", п for n), so there that one
 * stands for any letter. п (NEAR_N) is read as n, and as any letter only
 * where it is such a letter: in a word of five or more with no other.
 * Read as any letter with no limit, it made 540 words of the dictionaries
 * below terms ("Копач", a surname, is koran), 532 if only in five letters
 * or more; counted as the one other letter, as it was, it let a term with
 * two n's ("оріпіоп") or an n and one other ("ѵассіпатіоп") pass. Of the
 * 1.6 million words of the ru, uk, bg, el and sr hunspell dictionaries,
 * 113 are then read as a term (91 before п was read as n), most of them
 * ending in "?orah" ("слоган", slogan). A shorter word with such a letter
 * is more often a word of the script than a term (184 words: "имам", I
 * have, would be imam, "жест", gesture, sect), and so is a longer one
 * with two (361 words with two in ten letters or more, 789 in eight), so
 * there they match none. latin: the word holds a Latin letter. */
static void unwild(char *w, size_t n, int latin)
{
    size_t others = 0;
    for (size_t i = 0; i < n; i++)
        others += w[i] == '?';
    int any = latin || (others == 1 && n >= ALIKE_WORD);
    char pe = latin || (!others && n >= ALIKE_WORD) ? '?' : 'n';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c == NEAR_N)
            w[i] = pe;
        else if (c & ALIKE)
            w[i] = latin ? '?' : lower((char)(c & ~ALIKE));
        else if (c == '?' && !any)
            w[i] = NO_LETTER;
    }
}

/* Does the run hold a Latin letter from a to b? */
static int latin_in(const struct scan *s, size_t a, size_t b)
{
    while (a < b && !s->latin[a])
        a++;
    return a < b;
}

/* Reads the joined single letters, if three or more: a word of its own,
 * Latin if one of them is. */
static int flush_spell(struct scan *s)
{
    s->hit.at = s->spell_at;
    unwild(s->spell, s->sn, s->spell_latin);
    int r = s->sn >= 3 && check_word(&s->hit, s->spell, s->sn);
    s->sn = 0;
    s->spell_latin = 0;
    return r;
}

/* Takes the next word of the text (w == NULL at the end; latin: it holds
 * a Latin letter): reads the word before it alone, unless the two make an
 * ordinary phrase, and the two as a phrase. */
static int word(struct scan *s, char *w, size_t n, int latin)
{
    int ord = 0;
    if (w && n == 1) { /* its '?' is read with the letters it joins */
        if (s->sn == WORD_MAX - 1 && flush_spell(s))
            return 1;
        if (!s->sn)
            s->spell_at = s->tok_at;
        s->spell[s->sn++] = w[0];
        s->spell_latin |= latin;
    } else if (flush_spell(s)) {
        return 1;
    }
    if (w)
        unwild(w, n, latin);
    if (s->pn) {
        s->hit.at = s->prev_at;
        ord = w && ordinary_phrase(&s->hit, s->prev, s->pn, w, n);
        if (!ord && !s->prev_ordinary && check_word(&s->hit, s->prev, s->pn))
            return 1;
        if (w && !ord && !s->prev_ordinary && check_phrase(&s->hit, s->prev, s->pn, w, n))
            return 1;
        if (w && !ord && !s->prev_ordinary && !s->blank &&
            check_joined(&s->hit, s->prev, s->pn, w, n))
            return 1;
    }
    s->prev_ordinary = ord;
    s->pn = 0;
    if (w) {
        memcpy(s->prev, w, n);
        s->pn = n;
        s->prev_at = s->tok_at;
        s->blank = 0;
        s->words++;
        s->unjoined |= ord || s->jn + n >= WORD_MAX;
        if (!s->unjoined) {
            memcpy(s->joined + s->jn, w, n);
            s->jn += n;
        }
    }
    return 0;
}

static int upper_at(const struct scan *s, size_t i)
{
    return s->kind[i] == UPPER;
}

static int lower_at(const struct scan *s, size_t i)
{
    return s->kind[i] == LOWER || s->kind[i] == WILD;
}

/* Reads the run in s->tok: its letter runs whole and by camelCase words,
 * and, if it mixes letters and digits, read with digits as letters. */
static int run(struct scan *s)
{
    char w[TOK_MAX];
    size_t n = s->tn, i = 0, nl = 0;
    while (i < n) {
        if (s->kind[i] == DIGIT) {
            i++;
            continue;
        }
        size_t a = i, parts = 0;
        while (i < n && s->kind[i] != DIGIT)
            i++;
        nl += i - a;
        /* camelCase words: a break before an upper after a lower, and
         * before the last upper of a row of them followed by a lower. */
        size_t st = a;
        for (size_t j = a + 1; j <= i; j++) {
            int cut = j == i || (upper_at(s, j) && lower_at(s, j - 1)) ||
                      (upper_at(s, j) && upper_at(s, j - 1) && j + 1 < i && lower_at(s, j + 1));
            if (!cut)
                continue;
            for (size_t k = st; k < j; k++)
                w[k - st] = lower(s->tok[k]);
            if (word(s, w, j - st, latin_in(s, st, j)))
                return 1;
            parts++;
            st = j;
        }
        if (parts > 1) {
            for (size_t k = a; k < i; k++)
                w[k - a] = lower(s->tok[k]);
            unwild(w, i - a, latin_in(s, a, i));
            s->hit.at = s->tok_at;
            if (check_word(&s->hit, w, i - a))
                return 1;
        }
    }
    if (nl && nl < n) { /* letters and digits: read the digits as letters */
        static const char leet[] = "oi.eas.t.."; /* 0 o, 1 i, 3 e, 4 a, 5 s, 7 t */
        size_t k = 0;
        int latin = 0; /* a digit is of no script */
        for (i = 0; i <= n; i++) {
            char c = i < n ? s->tok[i] : 0;
            if (i < n && s->kind[i] == DIGIT && leet[c - '0'] != '.')
                c = leet[c - '0'];
            else if (i < n && s->kind[i] == DIGIT)
                c = 0;
            if (c) {
                latin |= s->latin[i];
                w[k++] = lower(c);
                continue;
            }
            unwild(w, k, latin);
            s->hit.at = s->tok_at;
            if (k && check_word(&s->hit, w, k))
                return 1;
            k = 0;
            latin = 0;
        }
    }
    return 0;
}

/* ----------------------------------------------------------------- CJK */

/* The bytes of text at p that spell t (tn bytes), ignorable characters
 * after the first skipped ("民\u200b族"), or 0. */
static size_t spells(const unsigned char *p, const char *t, size_t tn)
{
    const unsigned char *q = p;
    size_t i = 0;
    while (i < tn) {
        size_t len;
        uint32_t c;
        if (!*q)
            return 0;
        c = utf8(q, &len);
        if (i && ignorable(c)) {
            q += len;
            continue;
        }
        if (len > tn - i || memcmp(q, t + i, len))
            return 0;
        q += len;
        i += len;
    }
    return (size_t)(q - p);
}

/* Is the term t found at p part of an ordinary CJK phrase of the text? */
static int in_ordinary_cjk(const unsigned char *text, const unsigned char *p, const char *t,
                           size_t tn)
{
    EACH(ordinary_cjk, o, on)
    {
        for (const char *k = memmem(o, on, t, tn); k;
             k = memmem(k + 1, on - (size_t)(k + 1 - o), t, tn)) {
            size_t before = (size_t)(k - o);
            if ((size_t)(p - text) >= before && spells(p - before, o, on))
                return 1;
        }
    }
    return 0;
}

/* Reads text; *at gets where the word holding the term starts (about),
 * *probes how many keys it compared. */
static const char *refused_at(const char *text, char *term, size_t termlen, size_t *at,
                              size_t *probes)
{
    struct scan s;
    const unsigned char *p = (const unsigned char *)text;
    int hit = 0;

    *probes = 0;
    if (!text)
        return NULL;
    memset(&s, 0, sizeof s);
    s.hit.cls = -1;
    while (!hit) {
        size_t len = 1;
        char a = 0;
        uint32_t c = *p ? utf8(p, &len) : 0;
        int k = *p ? classify(c, &a) : SEP;
        if (k == SKIP) {
            p += len;
            continue;
        }
        if (k != SEP) {
            if (s.tn == TOK_MAX) { /* read this piece, go on with its end */
                if ((hit = run(&s)))
                    break;
                memmove(s.tok, s.tok + TOK_MAX - WORD_MAX, WORD_MAX);
                memmove(s.kind, s.kind + TOK_MAX - WORD_MAX, WORD_MAX);
                memmove(s.latin, s.latin + TOK_MAX - WORD_MAX, WORD_MAX);
                s.tn = WORD_MAX;
            }
            if (!s.tn)
                s.tok_at = (size_t)(p - (const unsigned char *)text);
            s.tok[s.tn] = a;
            s.latin[s.tn] = k != DIGIT && latin_letter(c);
            s.kind[s.tn++] = (unsigned char)k;
        } else {
            if (s.tn)
                hit = run(&s);
            s.tn = 0;
            s.blank |= space(c);
        }
        if (!*p)
            break;
        p += len;
    }
    if (!hit)
        hit = word(&s, NULL, 0, 0);
    if (!hit && s.words > 1 && !s.unjoined) {
        s.hit.at = 0;
        hit = check_joined(&s.hit, s.joined, s.jn, "", 0);
    }
    if (!hit)
        hit = find_cjk(&s.hit, text);
    *probes = s.hit.probes;
    if (!hit)
        return NULL;
    if (term && termlen) {
        size_t k = s.hit.tn < termlen - 1 ? s.hit.tn : termlen - 1;
        for (size_t i = 0; i < k; i++)
            term[i] = s.hit.term[i] == '_' ? ' ' : s.hit.term[i];
        term[k] = 0;
    }
    *at = s.hit.at;
    return classes[s.hit.cls].name;
}

const char *prb_refused_class(const char *text, char *term, size_t termlen)
{
    size_t at, probes;
    return refused_at(text, term, termlen, &at, &probes);
}

size_t prb_refused_probes(const char *text)
{
    size_t at, probes;
    refused_at(text, NULL, 0, &at, &probes);
    return probes;
}

#define EXCERPT 60 /* bytes of a refused text a message quotes */

/* Moves i back to the start of the UTF-8 character it is in: three bytes
 * at most, so bytes that are not UTF-8 cannot stretch an excerpt. */
static size_t char_start(const char *text, size_t i)
{
    for (int k = 0; k < 3 && i && ((unsigned char)text[i] & 0xc0) == 0x80; k++)
        i--;
    return i;
}

const char *prb_refused_why(const char *what, const char *text, char *buf, size_t len)
{
    char term[64];
    size_t at, probes, n, from = 0, to;
    const char *cls = refused_at(text, term, sizeof term, &at, &probes);
    if (!cls)
        return NULL;
    /* from a little before the word holding the term; a short text whole */
    n = strlen(text);
    if (n > EXCERPT)
        from = at < 20 ? 0 : at - 20 < n - EXCERPT ? at - 20 : n - EXCERPT;
    to = n - from > EXCERPT ? from + EXCERPT : n;
    from = from ? char_start(text, from) : 0;
    to = to < n ? char_start(text, to) : n;
    snprintf(buf, len,
             "refused: '%s' is %s data, which probity never holds or scores (DESIGN invariant 1), "
             "in %s '%s%.*s%s'",
             term, cls, what, from ? "\xe2\x80\xa6" : "", (int)(to - from), text + from,
             to < n ? "\xe2\x80\xa6" : "");
    return cls;
}

/* ----------------------------------------------------------------- index */

/*
 * The lists read once into hash sets of their keys: a word, a phrase
 * written without its '_', or a half of a phrase. A key keeps the number
 * of the entry it came from, so that where several entries match, the
 * first in the lists wins, as it did when they were scanned. A word with
 * a letter read as any letter ('?') cannot be hashed: it is compared with
 * the keys of its length. The index is built on first use (pthread_once)
 * and only read after, by any thread.
 *
 * tests/test_refused.c compiles this file with REFUSED_LINEAR and the
 * linear scans of the lists this index replaced, and proves that the two
 * give every name it makes the same answer.
 */
#ifndef REFUSED_LINEAR

#define KEYS_MAX 4096   /* keys of all the sets */
#define SLOTS 2048      /* a set's hash slots: a power of two, over twice its keys */
#define TERMS_MAX 1024  /* terms of all the classes */
#define JOINED_MAX 8192 /* bytes of the phrases written without their '_' */
#define OPHRASES_MAX 256
#define CJK_MAX 256
#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

/* A term of a class; its number is its place in the lists. */
struct term {
    const char *t;
    const char *us;     /* its '_', if a phrase */
    size_t tn, raw, tl; /* bytes without its mark and with it, letters */
    int mark, cls;
};

struct key {
    const char *s;
    uint32_t h;
    uint16_t n, val; /* letters, the number of the entry it came from */
};

/* Keys hashed first letter to last, or last to first for the suffixes of
 * a word; and, for a word with a '?', by length in the order added. */
struct set {
    int rev;
    size_t nkeys;
    uint16_t slot[SLOTS];          /* a key's place in ix.key + 1; 0: free */
    uint16_t len_at[WORD_MAX + 1]; /* its keys of n letters: bylen[len_at[n] .. len_at[n + 1]] */
};

enum {
    TERMS,           /* terms, phrases without their '_' (rules 1, 2, 4) */
    SUFFIXES,        /* the same keys hashed from their end (rules 3, 4) */
    VOCAB,           /* partners, single terms, halves of phrases (rule 3) */
    ORDINARY,        /* ordinary words, ordinary phrases without their '_' */
    FIRSTS,          /* the first words of phrases (rule 2) */
    ORDINARY_FIRSTS, /* the first words of ordinary phrases */
    NSETS
};

static struct {
    struct set set[NSETS];
    struct key key[KEYS_MAX];
    uint16_t bylen[KEYS_MAX];
    size_t nkeys;
    struct term term[TERMS_MAX];
    size_t nterms;
    struct {
        const char *b; /* an ordinary phrase's second word */
        size_t bn;
    } ophrase[OPHRASES_MAX];
    size_t nophrases;
    char joined[JOINED_MAX];
    size_t njoined;
    struct {
        const char *t;
        size_t tn;
        int cls;
    } cjk[CJK_MAX];
    size_t ncjk;
    uint16_t cjk_by[CJK_MAX]; /* the CJK terms by first byte, in the order of the lists */
    uint16_t cjk_at[256 + 1]; /* those of first byte b: cjk_by[cjk_at[b] .. cjk_at[b + 1]] */
} ix;
static pthread_once_t ix_once = PTHREAD_ONCE_INIT;

static uint32_t fnv(uint32_t h, char c)
{
    return (h ^ (unsigned char)c) * FNV_PRIME;
}

static uint32_t hash(const char *s, size_t n, int rev)
{
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i < n; i++)
        h = fnv(h, s[rev ? n - 1 - i : i]);
    return h;
}

/* Adds key s (n bytes) of entry val to set which, whose keys are the last
 * added. A key of WORD_MAX letters or more equals no word read. The sizes
 * above hold the lists (the tests would find a key left out). */
static void add_key(int which, const char *s, size_t n, size_t val)
{
    struct set *set = &ix.set[which];
    struct key *k = &ix.key[ix.nkeys];
    assert(ix.nkeys < KEYS_MAX && 2 * (set->nkeys + 1) < SLOTS && val <= UINT16_MAX);
    if (n >= WORD_MAX || ix.nkeys == KEYS_MAX || 2 * (set->nkeys + 1) >= SLOTS)
        return;
    k->s = s;
    k->n = (uint16_t)n;
    k->val = (uint16_t)val;
    k->h = hash(s, n, set->rev);
    size_t i = k->h & (SLOTS - 1);
    while (set->slot[i])
        i = (i + 1) & (SLOTS - 1);
    set->slot[i] = (uint16_t)(++ix.nkeys);
    set->nkeys++;
}

/* Sorts the keys of set which, added from first on, by length, keeping
 * the order of the lists within a length. */
static void end_set(int which, size_t first)
{
    struct set *set = &ix.set[which];
    size_t at[WORD_MAX + 1] = {0};
    for (size_t k = first; k < ix.nkeys; k++)
        at[ix.key[k].n + 1]++;
    at[0] = first;
    for (size_t n = 0; n < WORD_MAX; n++)
        at[n + 1] += at[n];
    for (size_t n = 0; n <= WORD_MAX; n++)
        set->len_at[n] = (uint16_t)at[n];
    for (size_t k = first; k < ix.nkeys; k++)
        ix.bylen[at[ix.key[k].n]++] = (uint16_t)k;
}

/* t (tn bytes) without its '_', kept in ix.joined; *n gets its length. */
static const char *join(const char *t, size_t tn, size_t *n)
{
    char *j = ix.joined + ix.njoined;
    size_t k = 0;
    assert(ix.njoined + tn <= JOINED_MAX);
    if (ix.njoined + tn > JOINED_MAX) {
        *n = WORD_MAX; /* too long to be kept: add_key leaves it out */
        return j;
    }
    for (size_t i = 0; i < tn; i++)
        if (t[i] != '_')
            j[k++] = t[i];
    ix.njoined += k;
    *n = k;
    return j;
}

static void index_terms(void)
{
    size_t first = ix.nkeys;
    ix.set[SUFFIXES].rev = 1;
    for (size_t c = 0; c < NCLASSES; c++)
        EACH(classes[c].terms, t, tn)
        {
            struct term *e = &ix.term[ix.nterms];
            const char *k;
            assert(ix.nterms < TERMS_MAX);
            if (ix.nterms == TERMS_MAX)
                break;
            e->t = t;
            e->raw = e->tn = tn;
            e->us = memchr(t, '_', tn);
            e->mark = mark(t, &e->tn);
            e->cls = (int)c;
            k = e->us ? join(t, e->tn, &e->tl) : t;
            if (!e->us)
                e->tl = e->tn;
            add_key(TERMS, k, e->tl, ix.nterms++);
        }
    end_set(TERMS, first);
    for (size_t k = first, end = ix.nkeys; k < end; k++)
        add_key(SUFFIXES, ix.key[k].s, ix.key[k].n, ix.key[k].val);
    end_set(SUFFIXES, first + ix.set[TERMS].nkeys);
}

/* A list's single words, without their marks: its phrases are not words. */
static void index_words(int which, const char *list)
{
    EACH(list, t, tn)
    {
        const char *us = memchr(t, '_', tn);
        mark(t, &tn);
        if (!us)
            add_key(which, t, tn, 0);
    }
}

static void index_vocab(void)
{
    size_t first = ix.nkeys;
    index_words(VOCAB, partners);
    for (size_t i = 0; i < ix.nterms; i++) {
        const struct term *e = &ix.term[i];
        size_t a = e->us ? (size_t)(e->us - e->t) : 0;
        if (!e->us) {
            add_key(VOCAB, e->t, e->tn, 0);
        } else {
            add_key(VOCAB, e->t, a, 0);
            add_key(VOCAB, e->us + 1, e->tn - a - 1, 0);
        }
    }
    end_set(VOCAB, first);
}

static void index_ordinary(void)
{
    size_t first = ix.nkeys, n;
    index_words(ORDINARY, ordinary);
    EACH(ordinary_phrases, t, tn)
    {
        const char *k = join(t, tn, &n);
        add_key(ORDINARY, k, n, 0);
    }
    end_set(ORDINARY, first);
    first = ix.nkeys;
    EACH(ordinary_phrases, t, tn)
    {
        const char *us = memchr(t, '_', tn);
        assert(us && ix.nophrases < OPHRASES_MAX); /* a phrase is two words */
        if (!us || ix.nophrases == OPHRASES_MAX)
            continue;
        ix.ophrase[ix.nophrases].b = us + 1;
        ix.ophrase[ix.nophrases].bn = tn - (size_t)(us - t) - 1;
        add_key(ORDINARY_FIRSTS, t, (size_t)(us - t), ix.nophrases++);
    }
    end_set(ORDINARY_FIRSTS, first);
}

static void index_phrases(void)
{
    size_t first = ix.nkeys;
    for (size_t i = 0; i < ix.nterms; i++)
        if (ix.term[i].us)
            add_key(FIRSTS, ix.term[i].t, (size_t)(ix.term[i].us - ix.term[i].t), i);
    end_set(FIRSTS, first);
}

static void index_cjk(void)
{
    size_t at[256 + 1] = {0};
    for (size_t c = 0; c < NCLASSES; c++)
        EACH(classes[c].cjk, t, tn)
        {
            assert(ix.ncjk < CJK_MAX);
            if (ix.ncjk == CJK_MAX)
                break;
            ix.cjk[ix.ncjk].t = t;
            ix.cjk[ix.ncjk].tn = tn;
            ix.cjk[ix.ncjk++].cls = (int)c;
        }
    for (size_t i = 0; i < ix.ncjk; i++)
        at[(unsigned char)ix.cjk[i].t[0] + 1]++;
    for (size_t b = 0; b < 256; b++)
        at[b + 1] += at[b];
    for (size_t b = 0; b <= 256; b++)
        ix.cjk_at[b] = (uint16_t)at[b];
    for (size_t i = 0; i < ix.ncjk; i++)
        ix.cjk_by[at[(unsigned char)ix.cjk[i].t[0]]++] = (uint16_t)i;
}

static void build_index(void)
{
    index_terms();
    index_vocab();
    index_ordinary();
    index_phrases();
    index_cjk();
}

/* The keys of a set that a word matches, one by one. */
struct probe {
    const struct set *set;
    const char *w;
    size_t n, i, end;
    uint32_t h;
    int wild;
};

/* Starts p on word w (n letters, '?' any letter; h its hash if none is). */
static void probe_start(struct probe *p, struct hit *hit, int which, const char *w, size_t n,
                        uint32_t h, int wild)
{
    pthread_once(&ix_once, build_index);
    hit->probes++;
    p->set = &ix.set[which];
    p->w = w;
    p->n = n;
    p->h = h;
    p->wild = wild || n >= WORD_MAX;
    p->i = n >= WORD_MAX ? 0 : wild ? p->set->len_at[n] : h & (SLOTS - 1);
    p->end = n >= WORD_MAX ? 0 : wild ? p->set->len_at[n + 1] : 0;
}

/* The next key the word matches, or NULL. */
static const struct key *probe_next(struct probe *p, struct hit *hit)
{
    if (p->wild) {
        while (p->i < p->end) {
            const struct key *k = &ix.key[ix.bylen[p->i++]];
            hit->probes++;
            if (eqw(p->w, k->s, p->n))
                return k;
        }
        return NULL;
    }
    while (p->set->slot[p->i]) {
        const struct key *k = &ix.key[p->set->slot[p->i] - 1];
        p->i = (p->i + 1) & (SLOTS - 1);
        hit->probes++;
        if (k->h == p->h && k->n == p->n && !memcmp(k->s, p->w, p->n))
            return k;
    }
    return NULL;
}

static int is_wild(const char *w, size_t n)
{
    return memchr(w, '?', n) != NULL;
}

/* The first key of a set that w matches, or NULL. */
static const struct key *lookup(struct hit *h, int which, const char *w, size_t n)
{
    struct probe p;
    probe_start(&p, h, which, w, n, hash(w, n, 0), is_wild(w, n));
    return probe_next(&p, h);
}

static int found_term(struct hit *h, size_t i)
{
    return found(h, (size_t)ix.term[i].cls, ix.term[i].t, ix.term[i].tn);
}

static int term_equal(struct hit *h, const char *w, size_t n, int other)
{
    struct probe p;
    const struct key *k;
    size_t best = SIZE_MAX;
    probe_start(&p, h, TERMS, w, n, hash(w, n, 0), is_wild(w, n));
    while ((k = probe_next(&p, h)))
        if (k->val < best && !(other && ix.term[k->val].mark == '='))
            best = k->val;
    return best != SIZE_MAX && found_term(h, best);
}

static int ordinary_word(struct hit *h, const struct stems *st)
{
    for (size_t i = 0; i < st->k; i++)
        if (lookup(h, ORDINARY, st->s[i], st->n[i]))
            return 1;
    return 0;
}

/* Is w a word of a class's list (or a half of a phrase), or a partner? */
static int vocab(struct hit *h, const char *w, size_t n)
{
    return lookup(h, VOCAB, w, n) != NULL;
}

/* Is some form of w in the vocabulary (rule 3's other half)? */
static int vocab_stem(struct hit *h, const char *w, size_t n)
{
    struct stems st;
    if (n < 2)
        return 0;
    stems(&st, w, n);
    for (size_t i = 0; i < st.k; i++)
        if (vocab(h, st.s[i], st.n[i]))
            return 1;
    return 0;
}

/* Marks in bits the terms whose key is w (n letters, hash h): at the
 * start of a word, or at its end (which SUFFIXES) unless marked '<'. */
static void mark_terms(uint64_t *bits, struct hit *hit, int which, const char *w, size_t n,
                       uint32_t h, int wild)
{
    struct probe p;
    const struct key *k;
    probe_start(&p, hit, which, w, n, h, wild);
    while ((k = probe_next(&p, hit))) {
        int m = ix.term[k->val].mark;
        if (m != '=' && !(which == SUFFIXES && m == '<'))
            bits[k->val / 64] |= (uint64_t)1 << (k->val % 64);
    }
}

/* The terms a word starts or ends with are looked up by each of its
 * beginnings and endings, then tried in the order of the lists. */
static int term_inside(struct hit *h, const char *w, size_t n)
{
    uint64_t pre[TERMS_MAX / 64] = {0}, suf[TERMS_MAX / 64] = {0};
    uint32_t hp = FNV_BASIS, hs = FNV_BASIS;
    const char *q = memchr(w, '?', n);
    size_t first_wild = q ? (size_t)(q - w) : n, last_wild = 0; /* last '?' + 1 */
    for (size_t i = n; q && i; i--)
        if (w[i - 1] == '?') {
            last_wild = i;
            break;
        }
    for (size_t l = 1; l < n; l++) {
        hp = fnv(hp, w[l - 1]);
        hs = fnv(hs, w[n - l]);
        if (l < 3) /* a term of fewer letters is never found inside a word */
            continue;
        mark_terms(pre, h, TERMS, w, l, hp, first_wild < l);
        mark_terms(suf, h, SUFFIXES, w + n - l, l, hs, last_wild > n - l);
    }
    for (size_t b = 0; b < TERMS_MAX / 64; b++)
        for (uint64_t all = pre[b] | suf[b]; all; all &= all - 1) {
            size_t i = b * 64 + (size_t)__builtin_ctzll(all);
            const struct term *e = &ix.term[i];
            int is_pre = (pre[b] >> (i % 64)) & 1, is_suf = (suf[b] >> (i % 64)) & 1;
            if (e->tl >= 5)
                return found_term(h, i);
            if (e->us)
                continue;
            if ((is_pre && vocab_stem(h, w + e->tl, n - e->tl)) ||
                (is_suf && vocab(h, w, n - e->tl)))
                return found_term(h, i);
        }
    return 0;
}

static int check_phrase(struct hit *h, const char *a, size_t an, const char *b, size_t bn)
{
    struct stems sa, sb;
    size_t best = SIZE_MAX;
    if (an >= WORD_MAX || bn >= WORD_MAX)
        return 0;
    stems(&sa, a, an);
    stems(&sb, b, bn);
    for (size_t i = 0; i < sa.k; i++) {
        struct probe p;
        const struct key *k;
        probe_start(&p, h, FIRSTS, sa.s[i], sa.n[i], hash(sa.s[i], sa.n[i], 0),
                    is_wild(sa.s[i], sa.n[i]));
        while ((k = probe_next(&p, h))) {
            const struct term *e = &ix.term[k->val];
            size_t y = e->raw - (size_t)(e->us - e->t) - 1;
            for (size_t j = 0; j < sb.k && k->val < best; j++, h->probes++)
                if (sb.n[j] == y && eqw(sb.s[j], e->us + 1, y))
                    best = k->val;
        }
    }
    if (best == SIZE_MAX)
        return 0;
    /* the phrase as written, mark and all, as when the lists were scanned */
    return found(h, (size_t)ix.term[best].cls, ix.term[best].t, ix.term[best].raw);
}

static int ordinary_phrase(struct hit *h, const char *a, size_t an, const char *b, size_t bn)
{
    struct probe p;
    const struct key *k;
    if (an >= WORD_MAX || bn >= WORD_MAX)
        return 0;
    probe_start(&p, h, ORDINARY_FIRSTS, a, an, hash(a, an, 0), is_wild(a, an));
    while ((k = probe_next(&p, h))) {
        const char *t = ix.ophrase[k->val].b;
        size_t y = ix.ophrase[k->val].bn;
        if ((y == bn && eqw(b, t, y)) || (y + 1 == bn && b[y] == 's' && eqw(b, t, y)))
            return 1;
    }
    return 0;
}

static int find_cjk(struct hit *h, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    pthread_once(&ix_once, build_index);
    for (const unsigned char *p = s; *p; p++) {
        if (*p < 0xe0) /* every CJK term starts with a three-byte character */
            continue;
        for (size_t i = ix.cjk_at[*p]; i < ix.cjk_at[*p + 1]; i++) {
            const char *t = ix.cjk[ix.cjk_by[i]].t;
            size_t tn = ix.cjk[ix.cjk_by[i]].tn;
            h->probes++;
            if (spells(p, t, tn) && !in_ordinary_cjk(s, p, t, tn)) {
                h->at = (size_t)(p - s);
                return found(h, (size_t)ix.cjk[ix.cjk_by[i]].cls, t, tn);
            }
        }
    }
    return 0;
}

#endif /* REFUSED_LINEAR */
