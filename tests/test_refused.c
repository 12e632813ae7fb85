/*
 * test_refused.c - DESIGN invariant 1 against names and texts made to slip
 * past it: plurals and verb forms, words run together, digits, odd case,
 * look-alike letters from other scripts, hidden characters, a refused
 * word after many ordinary ones, pinyin and German names, Chinese terms
 * inside a text; and ordinary credit vocabulary that must still load.
 * Names go in as a field, an enum value and a bin's reason code, texts as
 * a category's description and a bin's text, of the shipped default
 * policy.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "probity.h"

TestSuite(refused);

/* A name or a text, and the class it must be refused as. */
struct want {
    const char *text, *cls;
};

/* Names a review found accepted, and more of their kind. */
static const struct want names[] = {
    {"religion2", "religion"},
    {"healthcare_costs", "health"},
    {"mentalhealth", "health"},
    {"sexlife", "sex life"},
    {"tradeunion_dues", "trade-union"},
    {"partymember", "political"},
    {"party_dues", "political"},
    {"muslims", "religion"},
    {"christians", "religion"},
    {"hindus", "religion"},
    {"catholic", "religion"},
    {"protestant", "religion"},
    {"sunni", "religion"},
    {"tibetan", "ethnicity"},
    {"uighur_origin", "ethnicity"},
    {"congregation", "religion"},
    {"voted", "political"},
    {"strike_participation", "trade-union"},
    {"rally_attendance", "political"},
    {"cancer_treatment", "health"},
    {"drug_addiction", "health"},
    {"border_crossings", "location"},
    {"travel_records", "location"},
    {"location_visits", "location"},
    {"movement_log", "location"},
    {"train_trips", "location"},
    {"search_terms", "internet searches"},
    {"search_log", "internet searches"},
    {"online_comments", "speech"},
    /* forms and compounds */
    {"protested", "political"},
    {"protests", "political"},
    {"protester_flag", "political"},
    {"worshippers", "religion"},
    {"racism_flag", "ethnicity"},
    {"hinduism", "religion"},
    {"racecode", "ethnicity"},
    {"faceid", "biometrics"},
    {"heterosexual", "sex life"},
    {"searchlog", "internet searches"},
    {"hospitalized", "health"},
    {"h1v_status", "health"},
    {"heal7h_status", "health"},
    {"fai7h", "religion"},
    {"chronic_5ickness", "health"},
    {"home_7ribe", "ethnicity"},
    /* pinyin, for cn-rid subjects */
    {"zhengzhi_mianmao", "political"},
    {"zhengzhimianmao", "political"},
    {"dangyuan", "political"},
    {"cpc_member", "political"},
    {"cpc_membership", "political"},
    {"ccp_member", "political"},
    {"ccp_membership", "political"},
    {"minzu", "ethnicity"},
    {"zongjiao_xinyang", "religion"},
    {"jiankang_zhuangkuang", "health"},
    /* German, for de-taxid subjects */
    {"konfession", "religion"},
    {"kirchensteuer", "religion"},
    {"kirchensteuermerkmal", "religion"},
    {"gesundheit", "health"},
    {"gesundheitszustand", "health"},
    {"krankheit", "health"},
    {"behinderung", "health"},
    {"politisch", "political"},
    {"politische_einstellung", "political"},
    {"parteimitglied", "political"},
    {"parteizugehoerigkeit", "political"},
    {"gewerkschaft", "trade-union"},
    {"gewerkschaftsmitglied", "trade-union"},
    /* English */
    {"creed", "religion"},
    {"sect", "religion"},
    {"sect_member", "religion"},
    {"denominational_school", "religion"},
    {"kosher", "religion"},
    {"halal_diet", "religion"},
    {"halal_food", "religion"},
    {"halal_meal", "religion"},
    {"blood_type", "health"},
    {"bloodgroup", "health"},
    {"bmi", "health"},
    {"latitude", "location"},
    {"longitude", "location"},
    {"last_known_coordinates", "location"},
    {"geo_coordinates", "location"},
    {"geo_lat", "location"},
    {"geo_lng", "location"},
    {"geo_lon", "location"},
    {"geo_long", "location"},
    {"lat_long", "location"},
    {"latlng", "location"},
    {"lat_lon", "location"},
    {"checkins", "location"},
    {"check_ins", "location"},
    /* petitions are refused only in phrases (a winding-up petition is not) */
    {"signed_petitions", "political"},
    {"petitions_signed", "political"},
    {"petition_signatures", "political"},
    {"petition_signatory", "political"},
    {"petition_campaign", "political"},
    {"online_petitions", "political"},
    /* a single term written with a separator */
    {"geo_location", "location"},
    {"geo_locations", "location"},
    {"finger_print", "biometrics"},
    {"bio_metrics", "biometrics"},
    {"voice_print", "biometrics"},
    {"palm_print", "biometrics"},
    {"geo_tag", "location"},
    {"geo_tagged", "location"},
    {"where_abouts", "location"},
    {"where_a_bouts", "location"},
    {"last_geo_location_seen", "location"},
    {"vaccinated", "health"},
    {"covid_vaccinated", "health"},
    {"unvaccinated", "health"},
    {"citizenship", "ethnicity"},
    {"dual_citizenship", "ethnicity"},
};

/* Chinese terms, found anywhere in a text (Chinese has no spaces between
 * words), in simplified and traditional characters. */
static const struct want cjk[] = {
    {"申请人政治面貌：群众", "political"},  /* political status */
    {"党员", "political"},                  /* party member */
    {"黨員", "political"},                  /* party member */
    {"入党日期", "political"},              /* date of joining the party */
    {"入黨", "political"},                  /* joining the party */
    {"参加抗议", "political"},              /* took part in a protest */
    {"抗議", "political"},                  /* protest */
    {"示威", "political"},                  /* demonstration */
    {"多次上访", "political"},              /* petitioned the authorities often */
    {"上訪", "political"},                  /* petitioning */
    {"不当言论", "speech"},                 /* improper remarks */
    {"言論", "speech"},                     /* speech */
    {"宗教", "religion"},                   /* religion */
    {"宗教信仰", "religion"},               /* religious belief */
    {"信仰", "religion"},                   /* belief */
    {"佛教", "religion"},                   /* Buddhism */
    {"基督徒", "religion"},                 /* Christian */
    {"天主教", "religion"},                 /* Catholicism */
    {"伊斯兰教", "religion"},               /* Islam */
    {"伊斯蘭", "religion"},                 /* Islam */
    {"穆斯林", "religion"},                 /* Muslim */
    {"法轮功", "religion"},                 /* Falun Gong */
    {"法輪", "religion"},                   /* Falun */
    {"民族", "ethnicity"},                  /* ethnicity */
    {"民族：汉", "ethnicity"},              /* ethnicity: Han */
    {"种族", "ethnicity"},                  /* race */
    {"種族", "ethnicity"},                  /* race */
    {"健康", "health"},                     /* health */
    {"健康状况", "health"},                 /* state of health */
    {"身体健康", "health"},                 /* bodily health */
    {"疾病", "health"},                     /* disease */
    {"病史", "health"},                     /* medical history */
    {"残疾", "health"},                     /* disability */
    {"殘疾", "health"},                     /* disability */
    {"怀孕", "health"},                     /* pregnancy */
    {"懷孕", "health"},                     /* pregnancy */
    {"艾滋", "health"},                     /* AIDS */
    {"愛滋", "health"},                     /* AIDS */
    {"精神病", "health"},                   /* mental illness */
    {"指纹", "biometrics"},                 /* fingerprint */
    {"指紋", "biometrics"},                 /* fingerprint */
    {"人脸识别", "biometrics"},             /* face recognition */
    {"人臉", "biometrics"},                 /* face */
    {"刷脸", "biometrics"},                 /* face scan */
    {"刷臉", "biometrics"},                 /* face scan */
    {"虹膜", "biometrics"},                 /* iris */
    {"声纹", "biometrics"},                 /* voiceprint */
    {"聲紋", "biometrics"},                 /* voiceprint */
    {"生物识别", "biometrics"},             /* biometric recognition */
    {"生物識別", "biometrics"},             /* biometric recognition */
    {"性取向", "sex life"},                 /* sexual orientation */
    {"同性恋", "sex life"},                 /* homosexual */
    {"同性戀", "sex life"},                 /* homosexual */
    {"工会会员", "trade-union"},            /* union member */
    {"工會會員", "trade-union"},            /* union member */
    {"工会成员", "trade-union"},            /* union member */
    {"工會成員", "trade-union"},            /* union member */
    {"加入工会", "trade-union"},            /* joined a union */
    {"加入工會", "trade-union"},            /* joined a union */
    {"参加罢工", "trade-union"},            /* took part in a strike */
    {"罷工", "trade-union"},                /* strike */
    {"搜索记录", "internet searches"},      /* search records */
    {"搜索記錄", "internet searches"},      /* search records */
    {"搜索历史", "internet searches"},      /* search history */
    {"搜索歷史", "internet searches"},      /* search history */
    {"浏览记录", "internet searches"},      /* browsing records */
    {"瀏覽記錄", "internet searches"},      /* browsing records */
    {"社交媒体", "social-media"},           /* social media */
    {"社交媒體", "social-media"},           /* social media */
    {"微博", "social-media"},               /* Weibo */
    {"朋友圈", "social-media"},             /* WeChat Moments */
    {"抖音", "social-media"},               /* Douyin */
    {"位置数据", "location"},               /* location data */
    {"位置數據", "location"},               /* location data */
    {"位置信息", "location"},               /* location information */
    {"位置資訊", "location"},               /* location information */
    {"位置记录", "location"},               /* location records */
    {"位置記錄", "location"},               /* location records */
    {"行踪", "location"},                   /* whereabouts */
    {"行蹤", "location"},                   /* whereabouts */
    {"行动轨迹", "location"},               /* movement track */
    {"行動軌跡", "location"},               /* movement track */
    {"出行记录", "location"},               /* travel records */
    {"出行記錄", "location"},               /* travel records */
    {"经纬度", "location"},                 /* latitude and longitude */
    {"經緯度", "location"},                 /* latitude and longitude */
    {"民\xe2\x80\x8b族", "ethnicity"},      /* a zero-width space inside */
    {"Kunde, 民族 unbekannt", "ethnicity"}, /* among Latin words */
    {"财务健康, 身体健康", "health"},       /* ordinary once, then not */
};

/* The same names in other spellings, as names reach prb_refused_class from
 * ingest, CSV headers and PMML (a policy's own names are a-z, 0-9 and _). */
static const struct want spellings[] = {
    {"ReligioN", "religion"},
    {"RELIGIONCODE", "religion"},
    {"MENTALHEALTH", "health"},
    {"TRADEUNIONDUES", "trade-union"},
    {"HIVStatus", "health"},
    {"r\xd0\xb5ligion", "religion"},                /* Cyrillic e */
    {"r\xd0\xb0\xd1\x81\xd0\xb5", "ethnicity"},     /* Cyrillic a, c, e: "race" */
    {"\xef\xbd\x92\xef\xbd\x85ligion", "religion"}, /* fullwidth r, e */
    {"reli\xe2\x80\x8bgion", "religion"},           /* a zero-width space inside */
    {"reli\xc2\xadgion", "religion"},               /* a soft hyphen inside */
    {"rel\xc3\xadgion", "religion"},                /* i with an acute */
    {"re\xcc\x81ligion", "religion"},               /* a combining accent */
    {"r\xe1\xba\xb9ligion", "religion"},            /* e with a dot below: any letter */
    {"r e l i g i o n", "religion"},
    {"Geo-Location", "location"},
    {"Finger-Print", "biometrics"},
    {"geo.location", "location"},
    {"Geo Location", "location"},
    {"Where A Bouts", "location"},
};

/* Ordinary credit vocabulary that must stay allowed. */
static const char *const ordinary[] = {
    "balance",
    "credit_limit",
    "days_past_due",
    "court_judgment",
    "insolvency",
    "tax_arrears",
    "procurement",
    "contract_party",
    "counterparty",
    "third_party",
    "search_fee",
    "credit_searches",
    "account_movements",
    "movement_type",
    "currency_denomination",
    "denominated_in",
    "credit_union_member",
    "european_union_grant",
    "strike_off_date",
    "struck_off",
    "tax_treatment",
    "comment",
    "trip_cancellation_fee",
    "branch_location",
    "environmental_fine",
    "supplemental_income",
    "fundamental_breach",
    "hospitality_sector",
    "competition_fine",
    "selection_date",
    "forecast_date",
    "rehabilitation_proceedings",
    "collateral_value",
    "trace_id",
    "interest_rate",
    "guarantor",
    "generally_late",
    "insolvency_petition",
    "bankruptcy_petition",
    "liquidation_petition",
    "creditor_petition",
    "winding_up_petition",
    "petition_date",
    "petitioner",
    "credit_union",
    "european_union",
    "hard_search",
    "soft_search",
    "credit_search",
    /* a bill protest is an adverse credit record (Italy's protest register,
     * Brazil's protesto), not a political one */
    "bill_protest",
    "bill_protests",
    "cheque_protest",
    "check_protest",
    "protest_date",
    "protest_register",
    "protested_bill",
    "protested_cheque",
    "protested_check",
    "protested_note",
    "protested_draft",
    "protested_payment",
    "protested_payments",
    "audit_opinion",
    "auditor_opinion",
    "qualified_opinion",
    "unqualified_opinion",
    "adverse_opinion",
    "legal_opinion",
    "minority_shareholder",
    "minority_shareholders",
    "minority_shareholding",
    "minority_interest",
    "minority_stake",
    "minority_holding",
    "minority_investor",
    "voting_rights",
    "voting_shares",
    "voting_stock",
    "voting_power",
    "voting_control",
    "voting_interest",
    "face_value",
    "face_amount",
    "good_faith",
    "bad_faith_filing",
    "financial_health",
    "credit_health",
    "denomination",
    "denominations",
    "currency_denomination",
    "church_street_branch",
    "church_road",
    "church_lane",
    "temple_bar",
    "bloodstock",
    /* words that hold a new term */
    "sector_code",
    "section",
    "platitude",
    "decreed",
    "coordinator",
    "coordinated_proceedings",
    "checking_account",
    "latest_payment",
    "submission_date",
    /* two words that join into a term only as a sentence would not */
    "past_or_present_address",
    "past_or_current_employer",
};

/* Chinese texts of credit data that hold a refused term across two words,
 * or that share a character with one. */
static const char *const cjk_ordinary[] = {
    "财务健康",           "財務健康",   /* financial health */
    "健康发展",           "健康發展",   /* healthy development */
    "信用健康",                         /* credit health */
    "经营健康",           "企业健康度", /* operating health, a company's health */
    "中华民族伟大复兴",   /* the Chinese nation's rejuvenation: a name, not ethnicity */
    "诚信仰赖合同",       /* relies on good faith: 诚信 + 仰赖 */
    "线上访问记录",       /* online access records: 线上 + 访问 */
    "網上訪問",           /* online access */
    "征信访问记录",       /* credit-report access records: 征信 + 访问 */
    "员工会议",           /* staff meeting: 员工 + 会议 */
    "员工会费",           /* staff dues */
    "女性生活用品",       /* women's daily goods: 女性 + 生活 */
    "市政治理",           /* municipal governance: 市政 + 治理 */
    "单位置业",           /* an employer buys property: 单位 + 置业 */
    "营业位置",           /* place of business */
    "市场定位",           /* market positioning */
    "票据拒绝证书",       /* protest of a bill */
    "逾期还款, 法院判决", /* payment overdue, court judgment */
};

/* ---------------------------------------------------- policy edits */

static const char *subject; /* the name or text the edits below put in */

static json_t *payment_default(json_t *root)
{
    return json_object_get(json_object_get(root, "categories"), "payment_default");
}

static void as_field(json_t *root)
{
    json_object_set_new(json_object_get(payment_default(root), "fields"), subject,
                        json_pack("{s:s}", "type", "amount"));
}

static void as_enum_value(json_t *root)
{
    json_object_set_new(json_object_get(payment_default(root), "fields"), "kind",
                        json_pack("{s:s, s:[s, s]}", "type", "enum", "values", "none", subject));
}

static void as_description(json_t *root)
{
    json_object_set_new(payment_default(root), "description", json_string(subject));
}

static void as_bin_text(json_t *root)
{
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(json_array_get(json_object_get(c, "bins"), 1), "text",
                        json_string(subject));
}

static void as_bin_reason(json_t *root)
{
    json_t *c = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "scorecards"), "tenancy_check"),
                        "characteristics"),
        0);
    json_object_set_new(json_array_get(json_object_get(c, "bins"), 1), "reason",
                        json_string(subject));
}

/* Loads policy/default.json changed by edit with text; returns the loader's
 * code and leaves its message in msg. */
static int load_with(void (*edit)(json_t *), const char *text, char *msg, size_t msglen)
{
    char path[512];
    json_error_t err;
    prb_policy *p = NULL;
    json_t *root = json_load_file(th_path(path, sizeof path, "policy/default.json"), 0, &err);
    cr_assert_not_null(root, "%s", err.text);
    subject = text;
    edit(root);
    char *doc = json_dumps(root, 0);
    json_decref(root);
    int rc = prb_policy_load_buf("edited.json", doc, strlen(doc), &p);
    snprintf(msg, msglen, "%s", rc ? prb_policy_errmsg(p) : "");
    prb_policy_free(p);
    free(doc);
    return rc;
}

static void expect_refused(void (*edit)(json_t *), const char *where, const struct want *w)
{
    char msg[1024];
    int rc = load_with(edit, w->text, msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "'%s' as %s: rc %d: %s", w->text, where, rc, msg);
    cr_expect(strstr(msg, w->cls) && strstr(msg, "invariant 1"),
              "'%s' as %s: '%s' does not name class '%s'", w->text, where, msg, w->cls);
}

/* ------------------------------------------------------------ tests */

Test(refused, names_that_slipped_past_are_refused_in_a_policy)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        expect_refused(as_field, "a field", &names[i]);
        expect_refused(as_enum_value, "an enum value", &names[i]);
        expect_refused(as_description, "a description", &names[i]);
    }
}

Test(refused, other_spellings_are_refused_naming_the_class_and_term)
{
    char term[64];
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        const char *cls = prb_refused_class(spellings[i].text, term, sizeof term);
        cr_expect(cls && strstr(cls, spellings[i].cls), "'%s' refused as %s, want %s",
                  spellings[i].text, cls ? cls : "nothing", spellings[i].cls);
        expect_refused(as_description, "a description", &spellings[i]);
        expect_refused(as_bin_text, "a bin text", &spellings[i]);
    }
    cr_assert_not_null(prb_refused_class("r\xd0\xb5ligion", term, sizeof term));
    cr_expect_str_eq(term, "religion");
    cr_assert_not_null(prb_refused_class("TRADEUNIONDUES", term, sizeof term));
    cr_expect_str_eq(term, "trade union");
}

/* A bin's reason code is shown to the subject with its text, and a PMML
 * reasonCode was already checked: a JSON one is checked the same way. */
Test(refused, a_bin_reason_code_is_refused_like_a_pmml_reason_code)
{
    static const struct want codes[] = {
        {"RELIGION", "religion"}, {"ETHNIC-01", "ethnicity"},     {"H1V", "health"},
        {"MINZU", "ethnicity"},   {"UnionMember", "trade-union"},
    };
    char msg[1024];
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        expect_refused(as_bin_reason, "a reason code", &codes[i]);
    load_with(as_bin_reason, "RELIGION", msg, sizeof msg);
    cr_expect(strstr(msg, "characteristics[0].bins[1].reason: refused: 'religion' is religion or "
                          "belief data, which probity never holds or scores (DESIGN invariant 1), "
                          "in reason 'RELIGION'"),
              "%s", msg);
    cr_expect_eq(load_with(as_bin_reason, "FACE_VALUE", msg, sizeof msg), PRB_OK, "%s", msg);
}

/* Chinese has no spaces between words: its terms are found anywhere in a
 * text, and phrases of credit data that hold one across two words load. */
Test(refused, chinese_terms_are_refused_inside_a_text)
{
    char msg[1024], term[64];
    for (size_t i = 0; i < sizeof cjk / sizeof cjk[0]; i++) {
        const char *cls = prb_refused_class(cjk[i].text, term, sizeof term);
        cr_expect(cls && strstr(cls, cjk[i].cls), "'%s' refused as %s, want %s", cjk[i].text,
                  cls ? cls : "nothing", cjk[i].cls);
        expect_refused(as_description, "a description", &cjk[i]);
    }
    expect_refused(as_bin_text, "a bin text", &cjk[0]);
    cr_assert_not_null(prb_refused_class("申请人民族：汉", term, sizeof term));
    cr_expect_str_eq(term, "民族");
    for (size_t i = 0; i < sizeof cjk_ordinary / sizeof cjk_ordinary[0]; i++) {
        const char *cls = prb_refused_class(cjk_ordinary[i], term, sizeof term);
        cr_expect_null(cls, "'%s' refused as %s ('%s')", cjk_ordinary[i], cls, term);
        cr_expect_eq(load_with(as_description, cjk_ordinary[i], msg, sizeof msg), PRB_OK, "%s: %s",
                     cjk_ordinary[i], msg);
    }
}

/* A policy's names are a-z, 0-9 and '_': a look-alike letter in one is
 * refused by the naming rule, before invariant 1 is asked. */
Test(refused, a_name_with_a_look_alike_letter_is_refused)
{
    char msg[1024];
    int rc = load_with(as_field, "r\xd0\xb5ligion", msg, sizeof msg);
    cr_expect_eq(rc, PRB_EPOLICY, "%d: %s", rc, msg);
    cr_expect(strstr(msg, "may hold only a-z, 0-9 and '_'"), "%s", msg);
}

Test(refused, ordinary_credit_vocabulary_still_loads)
{
    char msg[1024], term[64], text[4096] = "Ordinary words:";
    for (size_t i = 0; i < sizeof ordinary / sizeof ordinary[0]; i++) {
        const char *cls = prb_refused_class(ordinary[i], term, sizeof term);
        cr_expect_null(cls, "'%s' refused as %s ('%s')", ordinary[i], cls, term);
        cr_expect_eq(load_with(as_field, ordinary[i], msg, sizeof msg), PRB_OK, "%s: %s",
                     ordinary[i], msg);
        strcat(strcat(text, " "), ordinary[i]);
    }
    cr_expect_eq(load_with(as_description, text, msg, sizeof msg), PRB_OK, "%s", msg);
    cr_expect_eq(load_with(as_bin_text, "Paid off a credit union loan on time", msg, sizeof msg),
                 PRB_OK, "%s", msg);
    /* words a space apart are words of a sentence, not one word split */
    cr_expect_eq(load_with(as_bin_text, "Moved from a past or present address in his panic", msg,
                           sizeof msg),
                 PRB_OK, "%s", msg);
}

/* Every word of a text is read, not its first 64. */
Test(refused, a_refused_word_after_200_others_is_refused)
{
    static char text[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s ", i % 2 ? "payment" : "late");
    snprintf(text + n, sizeof text - n, "religion");
    const char *cls = prb_refused_class(text, NULL, 0);
    cr_expect(cls && strstr(cls, "religion"), "refused as %s", cls ? cls : "nothing");
    /* The loader's message names the term and its class first, and quotes
     * only some 60 bytes of the text, from a little before the term. */
    char msg[1024];
    int rc = load_with(as_description, text, msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "as a description: rc %d", rc);
    cr_expect(strstr(msg, ": refused: 'religion' is religion or belief data, which probity "
                          "never holds or scores (DESIGN invariant 1), in category description "
                          "'\xe2\x80\xa6") &&
                  strstr(msg, "payment religion'") && strlen(msg) < 300,
              "as a description: %s", msg);
    /* A bin's text holds 500 bytes: 70 words, then the refused one. */
    rc = load_with(as_bin_text, text + n - 35 * strlen("late payment "), msg, sizeof msg);
    cr_expect_eq(rc, PRB_EREFUSED, "as a bin text: rc %d: %s", rc, msg);
    cr_expect(strstr(msg, "text: refused: 'religion' is religion or belief data") &&
                  strstr(msg, "payment religion'") && strlen(msg) < 300,
              "as a bin text: %s", msg);

    /* and so is one at the end of a word far longer than a word can be */
    static char word[2048];
    memset(word, 'x', sizeof word - 1);
    memcpy(word + sizeof word - 1 - strlen("religion"), "religion", strlen("religion"));
    cr_expect_not_null(prb_refused_class(word, NULL, 0), "a long word ending in religion");
}

/* A long text's refusal quotes some 60 bytes around the term, marked as
 * cut at both ends and cut between characters, never inside one. */
Test(refused, a_long_texts_refusal_quotes_an_excerpt_around_the_term)
{
    char text[512] = "", msg[1024];
    for (int i = 0; i < 60; i++)
        strcat(text, "\xc3\xa9"); /* e with an acute, two bytes */
    strcat(text, " religion ");
    for (int i = 0; i < 60; i++)
        strcat(text, "\xe4\xb8\xad"); /* a Chinese character, three bytes */
    void (*edits[])(json_t *) = {as_description, as_bin_text};
    for (size_t i = 0; i < 2; i++) {
        cr_expect_eq(load_with(edits[i], text, msg, sizeof msg), PRB_EREFUSED, "%s", msg);
        cr_expect(strstr(msg, "refused: 'religion' is religion or belief data"), "%s", msg);
        const char *q = strstr(msg, "invariant 1), in ");
        cr_assert_not_null(q, "%s", msg);
        q = strchr(q, '\'');
        cr_assert_not_null(q, "%s", msg);
        cr_expect(!strncmp(q, "'\xe2\x80\xa6\xc3\xa9", 6), "starts cut: %s", q);
        cr_expect(strstr(q, " religion \xe4\xb8\xad"), "holds the term: %s", q);
        cr_expect(strlen(q) < 80 && !strcmp(q + strlen(q) - 4, "\xe2\x80\xa6'"), "ends cut: %s", q);
        json_t *s = json_string(msg); /* NULL if a character was cut in two */
        cr_expect_not_null(s, "not UTF-8: %s", msg);
        json_decref(s);
    }
}
