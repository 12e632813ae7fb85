/*
 * refused.c - DESIGN invariant 1: the classes of data probity never holds
 * or scores. Names (categories, fields, features, purposes, enum values)
 * and declared descriptions are split into lower-case words (on '_', '-',
 * spaces, punctuation and camelCase) and matched against single terms and
 * two-word phrases of each class. Matching whole words, not substrings,
 * keeps "trace" from matching "race" while "race_code" still fails.
 *
 * The lists err on the side of refusing: a false refusal costs a rename
 * in a policy file; a false acceptance scores someone's faith or health.
 * This table is code, not configuration, so no policy can switch it off.
 */
#include "internal.h"

#include <ctype.h>
#include <string.h>

struct refused_class {
    const char *name;
    const char *terms; /* space-separated; "a_b" means the phrase "a b" */
};

static const struct refused_class classes[] = {
    {"political opinion or activity",
     "political politics politician party_member party_membership party_affiliation vote votes "
     "voting voter election elections protest protests protester protesters demonstration "
     "demonstrations demonstrator petition petitions activism activist dissent dissident "
     "opinion opinions ideology ideological"},
    {"speech", "speech speeches utterance utterances censorship censored online_post blog blogs "
               "microblog tweet tweets"},
    {"religion or belief", "religion religions religious belief beliefs faith church churches "
                           "mosque mosques temple synagogue worship prayer prayers atheist "
                           "atheism christian muslim islam jewish buddhist hindu falun"},
    {"ethnicity or race", "ethnic ethnicity ethnicities race races racial skin_colour "
                          "skin_color caste tribe tribal national_origin nationality "
                          "foreign_worker foreigner migrant immigrant minority uyghur"},
    {"health", "health medical medicine diagnosis diagnoses disease diseases illness sick "
               "sickness disability disabled pregnancy pregnant mental psychiatric hiv "
               "medication prescription hospital patient vaccination"},
    {"biometrics", "biometric biometrics face faces facial fingerprint fingerprints iris retina "
                   "voiceprint dna genetic genome gait palmprint"},
    {"sex life or sexual orientation", "sex sexual sexuality orientation sex_life gender lgbt "
                                       "gay lesbian homosexual transgender"},
    {"trade-union membership", "trade_union trade_unions union_member union_membership "
                               "labour_union labor_union unionist"},
    {"internet searches", "search_history search_query search_queries searches web_search "
                          "internet_search browsing browser_history browsing_history"},
    {"social-media content", "social_media socialmedia social_network weibo wechat twitter "
                             "facebook instagram tiktok douyin followers likes"},
    {"location tracks", "gps geolocation geotag whereabouts location_track location_tracks "
                        "location_history location_data movement_history "
                        "travel_history cell_tower"},
};

#define MAX_WORDS 64
#define WORD_MAX 32

/* Splits text into lower-case words; camelCase boundaries split too. */
static size_t split_words(const char *s, char w[][WORD_MAX])
{
    size_t nw = 0, len = 0;
    for (const char *p = s;; p++) {
        int c = (unsigned char)*p;
        int boundary = !c || !isalnum(c);
        int camel = isupper(c) && p > s && islower((unsigned char)p[-1]);
        if ((boundary || camel) && len) {
            w[nw][len] = 0;
            if (++nw == MAX_WORDS)
                return nw;
            len = 0;
        }
        if (!c)
            return nw;
        if (!boundary && len < WORD_MAX - 1)
            w[nw][len++] = (char)tolower(c);
    }
}

/* Is term (one word, or "a_b") present in the word list? */
static int has_term(const char *term, size_t tn, char w[][WORD_MAX], size_t nw)
{
    const char *us = memchr(term, '_', tn);
    for (size_t i = 0; i < nw; i++) {
        if (!us) {
            if (strlen(w[i]) == tn && !memcmp(w[i], term, tn))
                return 1;
            continue;
        }
        size_t a = (size_t)(us - term), b = tn - a - 1;
        if (i + 1 < nw && strlen(w[i]) == a && !memcmp(w[i], term, a) && strlen(w[i + 1]) == b &&
            !memcmp(w[i + 1], us + 1, b))
            return 1;
    }
    return 0;
}

const char *prb_refused_class(const char *text, char *term, size_t termlen)
{
    char w[MAX_WORDS][WORD_MAX];
    size_t nw;

    if (!text)
        return NULL;
    nw = split_words(text, w);
    for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
        const char *t = classes[c].terms;
        while (*t) {
            size_t tn = strcspn(t, " ");
            if (has_term(t, tn, w, nw)) {
                if (term && termlen) {
                    size_t k = tn < termlen - 1 ? tn : termlen - 1;
                    for (size_t i = 0; i < k; i++)
                        term[i] = t[i] == '_' ? ' ' : t[i];
                    term[k] = 0;
                }
                return classes[c].name;
            }
            t += tn;
            while (*t == ' ')
                t++;
        }
    }
    return NULL;
}
