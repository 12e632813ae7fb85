/*
 * test_ident.c - identifier normalisation and check characters (ident.c).
 *
 * Known-valid values were checked against an independent implementation
 * (python-stdnum: cn.ric, cn.uscc, lei / iso7064.mod_97_10, de.idnr /
 * iso7064.mod_11_10); known-invalid ones are valid values with one thing
 * broken, and where the point is a structural rule (birth date, digit
 * spread) the check character is made right so that the rule alone fails.
 */
#include <criterion/criterion.h>

#include <probity.h>

#include "ident.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int norm(const char *s, char *out, size_t outlen, int *scheme)
{
    return prb_ident_normalize(s, strlen(s), out, outlen, scheme);
}

static void expect_ok(const char *in, const char *canon, int want)
{
    char out[PRB_IDENT_MAX];
    int scheme = -1;
    int rc = norm(in, out, sizeof out, &scheme);

    cr_assert_eq(rc, PRB_OK, "'%s' refused: %s", in, out);
    cr_assert_str_eq(out, canon, "'%s' normalised to '%s', expected '%s'", in, out, canon);
    cr_assert_eq(scheme, want, "'%s': scheme %d, expected %d", in, scheme, want);
}

/* The reason must contain part; callers pass the "scheme: " prefix in it
 * so every refusal is also checked for naming its scheme. */
static void expect_bad_n(const char *in, size_t n, const char *part)
{
    char out[PRB_IDENT_MAX];
    int scheme = -1;
    int rc = prb_ident_normalize(in, n, out, sizeof out, &scheme);

    cr_assert_eq(rc, PRB_EINVAL, "'%.*s' accepted as '%s'", (int)n, in, out);
    cr_assert_eq(scheme, 0, "scheme set to %d on failure", scheme);
    cr_assert_not_null(strstr(out, part), "reason '%s' lacks '%s'", out, part);
}

static void expect_bad(const char *in, const char *part)
{
    expect_bad_n(in, strlen(in), part);
}

static void expect_reason(const char *in, const char *reason)
{
    char out[PRB_IDENT_MAX];
    int scheme = -1;

    cr_assert_eq(norm(in, out, sizeof out, &scheme), PRB_EINVAL, "'%s' accepted", in);
    cr_assert_str_eq(out, reason);
}

/* ------------------------------------------------------ check functions */

Test(ident, cn_rid_check_function_computes_mod_11_2)
{
    cr_assert_eq(prb_ident_cn_rid_check("11010519491231002"), 'X');
    cr_assert_eq(prb_ident_cn_rid_check("44030420000229123"), '6');
    cr_assert_eq(prb_ident_cn_rid_check("11010519000228001"), '1');
    cr_assert_eq(prb_ident_cn_rid_check("11010520991231002"), '9');
}

Test(ident, cn_rid_check_function_refuses_non_digits)
{
    cr_assert_eq(prb_ident_cn_rid_check("1101051949123100A"), 0);
    cr_assert_eq(prb_ident_cn_rid_check("11010519491231\0"
                                        "02"),
                 0);
    cr_assert_eq(prb_ident_cn_rid_check(NULL), 0);
}

Test(ident, cn_uscc_check_function_computes_gb32100)
{
    cr_assert_eq(prb_ident_cn_uscc_check("91350100M000100Y4"), '3');
    cr_assert_eq(prb_ident_cn_uscc_check("91110108551385082"), 'Q');
    cr_assert_eq(prb_ident_cn_uscc_check("91110000710931053"), '4');
}

Test(ident, cn_uscc_check_function_refuses_characters_outside_alphabet)
{
    cr_assert_eq(prb_ident_cn_uscc_check("91350100I000100Y4"), 0);
    cr_assert_eq(prb_ident_cn_uscc_check("91350100O000100Y4"), 0);
    cr_assert_eq(prb_ident_cn_uscc_check("91350100m000100Y4"), 0, "lower case is the caller's job");
    cr_assert_eq(prb_ident_cn_uscc_check("91350100\0"
                                         "000100Y4"),
                 0);
    cr_assert_eq(prb_ident_cn_uscc_check(NULL), 0);
}

Test(ident, lei_check_function_computes_mod_97_10)
{
    static const struct {
        const char *base, *check;
    } cases[] = {
        {"5493001KJTIIGC8Y1R", "12"}, {"529900T8BM49AURSDO", "55"}, {"506700GE1G29325QX3", "63"},
        {"549300ABCDEF000007", "98"}, {"549300ABCDEF000039", "02"}, /* zero-padded */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[2] = {'?', '?'};
        cr_assert_eq(prb_ident_lei_check(cases[i].base, out), 0, "%s", cases[i].base);
        cr_assert(out[0] == cases[i].check[0] && out[1] == cases[i].check[1],
                  "%s: got %.2s, expected %s", cases[i].base, out, cases[i].check);
    }
}

Test(ident, lei_check_function_refuses_bad_characters)
{
    char out[2];

    cr_assert_eq(prb_ident_lei_check("5493001KJTIIGC8Y1-", out), -1);
    cr_assert_eq(prb_ident_lei_check("5493001kjtiigc8y1r", out), -1);
    cr_assert_eq(prb_ident_lei_check(NULL, out), -1);
    cr_assert_eq(prb_ident_lei_check("5493001KJTIIGC8Y1R", NULL), -1);
}

Test(ident, de_taxid_check_function_computes_mod_11_10)
{
    cr_assert_eq(prb_ident_de_taxid_check("8609574271"), '9');
    cr_assert_eq(prb_ident_de_taxid_check("4703689281"), '6');
    cr_assert_eq(prb_ident_de_taxid_check("6592997048"), '9');
    cr_assert_eq(prb_ident_de_taxid_check("1234567890"), '3');
    /* 11 - product is 10 here, which the algorithm turns into 0. */
    cr_assert_eq(prb_ident_de_taxid_check("1231234567"), '0');
}

Test(ident, de_taxid_check_function_refuses_non_digits)
{
    cr_assert_eq(prb_ident_de_taxid_check("86095742x1"), 0);
    cr_assert_eq(prb_ident_de_taxid_check(NULL), 0);
}

/* ---------------------------------------------------------- valid values */

Test(ident, cn_rid_valid_values_normalise)
{
    expect_ok("cn-rid:11010519491231002X", "cn-rid:11010519491231002X", PRB_SCHEME_CN_RID);
    expect_ok("cn-rid:440304200002291236", "cn-rid:440304200002291236", PRB_SCHEME_CN_RID);
    expect_ok("cn-rid:110105190002280011", "cn-rid:110105190002280011", PRB_SCHEME_CN_RID);
    expect_ok("cn-rid:11010519000101001X", "cn-rid:11010519000101001X", PRB_SCHEME_CN_RID);
    expect_ok("cn-rid:110105209912310029", "cn-rid:110105209912310029", PRB_SCHEME_CN_RID);
}

Test(ident, cn_rid_lower_case_x_and_scheme_are_canonicalised)
{
    expect_ok("CN-RID:11010519491231002x", "cn-rid:11010519491231002X", PRB_SCHEME_CN_RID);
    expect_ok("Cn-Rid:11010519491231002X", "cn-rid:11010519491231002X", PRB_SCHEME_CN_RID);
}

Test(ident, whitespace_around_identifier_and_value_is_trimmed)
{
    expect_ok("  cn-rid:11010519491231002X\n", "cn-rid:11010519491231002X", PRB_SCHEME_CN_RID);
    expect_ok("\tcn-rid: \t11010519491231002x \r\n", "cn-rid:11010519491231002X",
              PRB_SCHEME_CN_RID);
    expect_ok(" lei:  5493001kjtiigc8y1r12\v\f", "lei:5493001KJTIIGC8Y1R12", PRB_SCHEME_LEI);
}

Test(ident, cn_uscc_valid_values_normalise)
{
    expect_ok("cn-uscc:91350100M000100Y43", "cn-uscc:91350100M000100Y43", PRB_SCHEME_CN_USCC);
    expect_ok("cn-uscc:91110108551385082Q", "cn-uscc:91110108551385082Q", PRB_SCHEME_CN_USCC);
    expect_ok("cn-uscc:911100007109310534", "cn-uscc:911100007109310534", PRB_SCHEME_CN_USCC);
}

Test(ident, cn_uscc_lower_case_is_upper_cased)
{
    expect_ok("CN-USCC:91350100m000100y43", "cn-uscc:91350100M000100Y43", PRB_SCHEME_CN_USCC);
    expect_ok(" cn-uscc: 91110108551385082q", "cn-uscc:91110108551385082Q", PRB_SCHEME_CN_USCC);
}

Test(ident, lei_valid_values_normalise)
{
    expect_ok("lei:5493001KJTIIGC8Y1R12", "lei:5493001KJTIIGC8Y1R12", PRB_SCHEME_LEI);
    expect_ok("lei:529900T8BM49AURSDO55", "lei:529900T8BM49AURSDO55", PRB_SCHEME_LEI);
    expect_ok("lei:506700GE1G29325QX363", "lei:506700GE1G29325QX363", PRB_SCHEME_LEI);
    expect_ok("lei:7LTWFZYICNSX8D621K86", "lei:7LTWFZYICNSX8D621K86", PRB_SCHEME_LEI);
    expect_ok("lei:549300ABCDEF00003902", "lei:549300ABCDEF00003902", PRB_SCHEME_LEI);
}

Test(ident, lei_lower_case_is_upper_cased)
{
    expect_ok("LEI:5493001kjtiigc8y1r12", "lei:5493001KJTIIGC8Y1R12", PRB_SCHEME_LEI);
}

Test(ident, de_taxid_valid_values_normalise)
{
    expect_ok("de-taxid:86095742719", "de-taxid:86095742719", PRB_SCHEME_DE_TAXID);
    expect_ok("de-taxid:47036892816", "de-taxid:47036892816", PRB_SCHEME_DE_TAXID);
    expect_ok("DE-TAXID: 98765432198 ", "de-taxid:98765432198", PRB_SCHEME_DE_TAXID);
}

Test(ident, de_taxid_digit_three_times_not_in_a_row_is_valid)
{
    expect_ok("de-taxid:65929970489", "de-taxid:65929970489", PRB_SCHEME_DE_TAXID);
    expect_ok("de-taxid:12131456787", "de-taxid:12131456787", PRB_SCHEME_DE_TAXID);
}

Test(ident, ext_valid_values_normalise)
{
    expect_ok("ext:bank-a:C-1001", "ext:bank-a:C-1001", PRB_SCHEME_EXT);
    expect_ok("ext:9bank:k", "ext:9bank:k", PRB_SCHEME_EXT);
    expect_ok("ext:bank.a_1:acct:42/x-Y.z_", "ext:bank.a_1:acct:42/x-Y.z_", PRB_SCHEME_EXT);
}

Test(ident, ext_furnisher_is_lower_cased_and_key_case_kept)
{
    expect_ok("EXT:Bank-A:C-1001", "ext:bank-a:C-1001", PRB_SCHEME_EXT);
    expect_ok(" Ext: BANK-A:aBc ", "ext:bank-a:aBc", PRB_SCHEME_EXT);
}

Test(ident, ext_furnisher_of_63_characters_is_valid)
{
    char in[128], want[128];
    char f[64];

    memset(f, 'a', 63);
    f[63] = '\0';
    snprintf(in, sizeof in, "ext:%s:k1", f);
    snprintf(want, sizeof want, "ext:%s:k1", f);
    expect_ok(in, want, PRB_SCHEME_EXT);
}

/* ----------------------------------------------------------- cn-rid bad */

Test(ident, cn_rid_wrong_length_is_refused)
{
    expect_reason("cn-rid:11010519491231002", "cn-rid: must be 18 characters, got 17");
    expect_reason("cn-rid:11010519491231002X1", "cn-rid: must be 18 characters, got 19");
}

Test(ident, cn_rid_bad_check_character_is_refused)
{
    expect_reason("cn-rid:110105194912310023", "cn-rid: check character is '3', expected 'X'");
    expect_reason("cn-rid:44030420000229123X", "cn-rid: check character is 'X', expected '6'");
}

Test(ident, cn_rid_bad_characters_are_refused)
{
    expect_reason("cn-rid:1101051949123100AX", "cn-rid: character 17 is 'A', expected a digit");
    expect_bad("cn-rid:11010519491231002Y", "cn-rid: check character is 'Y'");
    expect_bad("cn-rid:11010519491231002-", "cn-rid: check character");
    expect_bad("cn-rid:1101051949123100\xc3\xa9", "cn-rid: character 17 is not ASCII (byte 0xc3)");
    expect_bad("cn-rid:110105 19491231002X", "cn-rid:");
}

/* A byte past ASCII is named, with what it most likely is, before the
 * length is counted: two full-width digits or a trailing non-breaking
 * space gave "must be 18 characters, got 22" (or 20), a count of bytes
 * that sent the furnisher counting characters that looked right. */
Test(ident, a_character_past_ascii_is_named_before_the_length)
{
    expect_reason("cn-rid:\xef\xbc\x91\xef\xbc\x91"
                  "010519491231002X",
                  "cn-rid: character 1 is not ASCII (byte 0xef: a full-width digit?)");
    expect_reason("cn-rid:11010519491231002X\xc2\xa0",
                  "cn-rid: character 19 is not ASCII (byte 0xc2: a non-breaking space?)");
    expect_reason("de-taxid:8609574271\xef\xbc\x99",
                  "de-taxid: character 11 is not ASCII (byte 0xef: a full-width digit?)");
    expect_reason("lei:5493001KJTIIGC8Y1R1\xef\xbc\xb2",
                  "lei: character 20 is not ASCII (byte 0xef: a full-width letter or sign?)");
    expect_reason("cn-uscc:\xe3\x80\x80"
                  "91350100M000100Y43",
                  "cn-uscc: character 1 is not ASCII (byte 0xe3: an ideographic space?)");
    expect_reason("cn-rid:1101051949123100\xc3\xa9",
                  "cn-rid: character 17 is not ASCII (byte 0xc3)");
}

Test(ident, cn_rid_bad_birth_date_is_refused)
{
    /* Each has a correct check character, so only the date can fail. */
    expect_reason("cn-rid:110105190002290017", "cn-rid: birth date 19000229 is not a real date");
    expect_reason("cn-rid:110105194902300020", "cn-rid: birth date 19490230 is not a real date");
    expect_bad("cn-rid:110105194913010029", "cn-rid: birth date 19491301");
    expect_bad("cn-rid:11010519490001002X", "cn-rid: birth date 19490001");
    expect_bad("cn-rid:110105194901000026", "cn-rid: birth date 19490100");
}

Test(ident, cn_rid_birth_year_outside_1900_2099_is_refused)
{
    expect_reason("cn-rid:110105189912310015", "cn-rid: birth year 1899 is outside 1900..2099");
    expect_reason("cn-rid:110105210001010015", "cn-rid: birth year 2100 is outside 1900..2099");
}

Test(ident, cn_rid_leading_zero_is_refused)
{
    expect_reason("cn-rid:010105194912310026", "cn-rid: first digit must not be 0");
}

/* ---------------------------------------------------------- cn-uscc bad */

Test(ident, cn_uscc_wrong_length_is_refused)
{
    expect_reason("cn-uscc:91350100M000100Y4", "cn-uscc: must be 18 characters, got 17");
    expect_reason("cn-uscc:91350100M000100Y433", "cn-uscc: must be 18 characters, got 19");
}

Test(ident, cn_uscc_bad_check_character_is_refused)
{
    expect_reason("cn-uscc:91350100M000100Y44", "cn-uscc: check character is '4', expected '3'");
    expect_reason("cn-uscc:91110108551385082R", "cn-uscc: check character is 'R', expected 'Q'");
}

Test(ident, cn_uscc_letters_outside_alphabet_are_refused)
{
    static const char *const bad[] = {"I", "O", "S", "V", "Z", "i", "-", "*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char in[64];
        snprintf(in, sizeof in, "cn-uscc:91350100%s000100Y43", bad[i]);
        expect_bad(in, "cn-uscc: character 9 is");
        expect_bad(in, "not in the code's alphabet");
    }
}

/* -------------------------------------------------------------- lei bad */

Test(ident, lei_wrong_length_is_refused)
{
    expect_reason("lei:5493001KJTIIGC8Y1R1", "lei: must be 20 characters, got 19");
    expect_reason("lei:5493001KJTIIGC8Y1R123", "lei: must be 20 characters, got 21");
}

Test(ident, lei_bad_check_digits_are_refused)
{
    expect_reason("lei:5493001KJTIIGC8Y1R13", "lei: check digits are '13', expected '12'");
    expect_reason("lei:5493001KJTIIGC8Y1R21", "lei: check digits are '21', expected '12'");
    expect_reason("lei:5493001KJTIIGC8Y1RAB", "lei: check digits are 'AB', expected '12'");
}

Test(ident, lei_check_digits_outside_02_98_are_refused_even_when_mod_97_is_1)
{
    /* 549300ABCDEF00000701 is 1 mod 97 but ISO 7064 only issues 98 for
     * this base; accepting both would give one LEI two spellings. */
    expect_reason("lei:549300ABCDEF00000701", "lei: check digits are '01', expected '98'");
    expect_reason("lei:549300ABCDEF00003999", "lei: check digits are '99', expected '02'");
}

Test(ident, lei_bad_characters_are_refused)
{
    expect_reason("lei:5493001KJTIIGC8Y1-12", "lei: character 18 is '-', expected 0-9 or A-Z");
    expect_bad("lei:5493001KJTI GC8Y1R12", "lei: character 12 is ' '");
}

/* --------------------------------------------------------- de-taxid bad */

Test(ident, de_taxid_wrong_length_is_refused)
{
    expect_reason("de-taxid:8609574271", "de-taxid: must be 11 digits, got 10 characters");
    expect_reason("de-taxid:860957427190", "de-taxid: must be 11 digits, got 12 characters");
}

Test(ident, de_taxid_non_digits_are_refused)
{
    expect_reason("de-taxid:86095742X19", "de-taxid: character 9 is 'X', expected a digit");
}

Test(ident, de_taxid_leading_zero_is_refused)
{
    /* 0123456780 repeats one digit and 4 is its check digit. */
    expect_reason("de-taxid:01234567804", "de-taxid: first digit must not be 0");
}

Test(ident, de_taxid_bad_check_digit_is_refused)
{
    expect_reason("de-taxid:86095742718", "de-taxid: check digit is '8', expected '9'");
}

Test(ident, de_taxid_digit_distribution_violations_are_refused)
{
    /* All with a correct check digit: only the distribution is wrong. */
    expect_reason("de-taxid:12345678903",
                  "de-taxid: no digit repeats in the first 10, exactly one must");
    expect_reason("de-taxid:11234566789",
                  "de-taxid: digits 1 and 6 both repeat in the first 10, only one may");
    expect_reason("de-taxid:11112345678",
                  "de-taxid: digit 1 occurs 4 times in the first 10, at most 3");
    expect_reason("de-taxid:11123456786", "de-taxid: digit 1 occurs three times in a row");
    expect_reason("de-taxid:12345678882", "de-taxid: digit 8 occurs three times in a row");
}

/* -------------------------------------------------------------- ext bad */

Test(ident, ext_without_key_separator_is_refused)
{
    expect_reason("ext:bank-a", "ext: missing ':' between furnisher and key");
}

Test(ident, ext_empty_parts_are_refused)
{
    expect_bad("ext::k1", "ext: furnisher is empty");
    expect_reason("ext:bank-a:", "ext: key is empty");
}

Test(ident, ext_bad_furnisher_is_refused)
{
    expect_bad("ext:-bank:k", "ext: furnisher must start with a letter or digit");
    expect_bad("ext:.bank:k", "ext: furnisher must start with a letter or digit");
    expect_bad("ext:bank a:k", "ext: furnisher character 5 is ' '");
    expect_bad("ext:bank!:k", "ext: furnisher character 5 is '!'");
    expect_bad("ext:bank/a:k", "ext: furnisher character 5 is '/'");
}

Test(ident, ext_furnisher_longer_than_63_is_refused)
{
    char in[128], f[65];

    memset(f, 'a', 64);
    f[64] = '\0';
    snprintf(in, sizeof in, "ext:%s:k1", f);
    expect_reason(in, "ext: furnisher is 64 characters, at most 63");
}

Test(ident, ext_bad_key_characters_are_refused)
{
    expect_bad("ext:bank-a:C 1001", "ext: key character 2 is ' '");
    expect_bad("ext:bank-a:C#1001", "ext: key character 2 is '#'");
    expect_bad("ext:bank-a:C-1001\xe2\x82\xac", "ext: key character 7 is 0xe2");
}

/* ------------------------------------------------------ framing failures */

Test(ident, unknown_scheme_is_refused_and_named)
{
    expect_reason("foo:123",
                  "unknown identifier scheme 'foo' (known: cn-rid, cn-uscc, lei, de-taxid, ext)");
    expect_bad("lei :5493001KJTIIGC8Y1R12", "unknown identifier scheme 'lei '");
    expect_bad("cnrid:11010519491231002X", "unknown identifier scheme 'cnrid'");
}

Test(ident, missing_colon_is_refused)
{
    expect_reason("11010519491231002X", "missing ':' between scheme and value");
    expect_reason("  cn-rid  ", "missing ':' between scheme and value");
}

Test(ident, missing_scheme_is_refused)
{
    expect_reason(":11010519491231002X", "missing identifier scheme before ':'");
}

Test(ident, empty_value_is_refused)
{
    expect_reason("cn-rid:", "cn-rid: value is empty");
    expect_reason("lei:   \t", "lei: value is empty");
    expect_reason("ext:", "ext: value is empty");
}

Test(ident, empty_identifier_is_refused)
{
    char out[PRB_IDENT_MAX];

    expect_reason("", "empty identifier (expected SCHEME:VALUE)");
    expect_reason(" \t\r\n ", "empty identifier (expected SCHEME:VALUE)");
    cr_assert_eq(prb_ident_normalize(NULL, 0, out, sizeof out, NULL), PRB_EINVAL);
    cr_assert_eq(prb_ident_normalize(NULL, 5, out, sizeof out, NULL), PRB_EINVAL);
}

#define IN_MAX (PRB_IDENT_MAX / 2 - 32)

Test(ident, overlong_input_is_refused_with_its_length)
{
    char in[IN_MAX + 100], want[96];

    memset(in, 'a', sizeof in);
    memcpy(in, "ext:bank-a:", 11);
    snprintf(want, sizeof want, "identifier is %d bytes long, at most %d are allowed", IN_MAX + 1,
             IN_MAX);
    expect_bad_n(in, IN_MAX + 1, want);
    snprintf(want, sizeof want, "identifier is %d bytes long", (int)sizeof in);
    expect_bad_n(in, sizeof in, want);
}

/* The longest ext key (128) with the longest furnisher (63) fits. */
Test(ident, longest_ext_identifier_is_accepted)
{
    char in[4 + 63 + 1 + 129 + 1], out[PRB_IDENT_MAX];

    memcpy(in, "ext:", 4);
    memset(in + 4, 'f', 63);
    in[67] = ':';
    memset(in + 68, 'k', 128);
    in[196] = '\0';
    cr_assert_eq(prb_ident_normalize(in, 196, out, sizeof out, NULL), PRB_OK, "%s", out);
    cr_assert_str_eq(out, in);
    in[196] = 'k'; /* a 129th character of key */
    in[197] = '\0';
    cr_assert_eq(prb_ident_normalize(in, 197, out, sizeof out, NULL), PRB_EINVAL);
}

Test(ident, embedded_nul_is_refused)
{
    static const char in[] = "cn-rid:1101051949\0"
                             "1231002X";
    static const char scheme_nul[] = "cn\0rid:11010519491231002X";
    static const char no_colon[] = "cn-rid\0"
                                   "11010519491231002X";

    expect_bad_n(in, sizeof in - 1, "cn-rid: value contains a NUL byte at character 18");
    expect_bad_n(scheme_nul, sizeof scheme_nul - 1, "identifier scheme contains a NUL byte");
    expect_bad_n(no_colon, sizeof no_colon - 1, "identifier contains a NUL byte at character 7");
}

Test(ident, control_bytes_are_refused)
{
    expect_bad("cn-rid:110105\x01"
               "19491231002X",
               "cn-rid: value contains control byte 0x01");
    expect_bad("cn-rid:1101051949\t1231002X", "cn-rid: value contains control byte 0x09");
    expect_bad("lei:5493001KJTIIGC8Y1R12\x7f", "lei: value contains control byte 0x7f");
    expect_bad("c\x1bn-rid:11010519491231002X", "identifier scheme contains control byte 0x1b");
}

/* ------------------------------------------------------- buffer handling */

Test(ident, output_that_does_not_fit_is_refused_and_truncated_safely)
{
    char out[64];
    int scheme = -1;

    memset(out, '#', sizeof out);
    cr_assert_eq(prb_ident_normalize("cn-rid:11010519491231002X", 25, out, 10, &scheme),
                 PRB_EINVAL);
    cr_assert_eq(scheme, 0);
    cr_assert_eq(out[9], '\0', "the reason is terminated inside outlen");
    cr_assert_eq(strncmp(out, "cn-rid: o", 9), 0, "got '%s'", out);
    for (size_t i = 10; i < sizeof out; i++)
        cr_assert_eq(out[i], '#', "byte %zu past outlen was written", i);
}

Test(ident, output_buffer_one_short_is_refused_and_exact_size_accepted)
{
    /* "cn-rid:" + 18 characters + NUL = 26 bytes. */
    char out[64];

    memset(out, '#', sizeof out);
    cr_assert_eq(norm("cn-rid:11010519491231002X", out, 25, NULL), PRB_EINVAL);
    cr_assert_eq(out[24], '\0');
    cr_assert_eq(out[25], '#');
    cr_assert_eq(norm("cn-rid:11010519491231002X", out, 26, NULL), PRB_OK);
    cr_assert_str_eq(out, "cn-rid:11010519491231002X");
    cr_assert_eq(out[26], '#');
}

Test(ident, tiny_or_missing_output_buffer_never_crashes)
{
    char out[4] = {'#', '#', '#', '#'};

    cr_assert_eq(norm("cn-rid:11010519491231002X", NULL, 0, NULL), PRB_EINVAL);
    cr_assert_eq(norm("cn-rid:11010519491231002X", NULL, 100, NULL), PRB_EINVAL);
    cr_assert_eq(norm("cn-rid:11010519491231002X", out, 0, NULL), PRB_EINVAL);
    cr_assert_eq(out[0], '#', "outlen 0 must write nothing");
    cr_assert_eq(norm("cn-rid:11010519491231002X", out, 1, NULL), PRB_EINVAL);
    cr_assert_eq(out[0], '\0');
    cr_assert_eq(out[1], '#');
}

Test(ident, only_n_bytes_of_input_are_read)
{
    static const char full[] = "cn-rid:11010519491231002X";
    char out[PRB_IDENT_MAX];
    /* An exact-size heap copy without a terminator: AddressSanitizer
     * reports any read past it. */
    char *s = malloc(sizeof full - 1);

    cr_assert_not_null(s);
    memcpy(s, full, sizeof full - 1);
    cr_assert_eq(prb_ident_normalize(s, sizeof full - 1, out, sizeof out, NULL), PRB_OK);
    cr_assert_str_eq(out, full);
    cr_assert_eq(prb_ident_normalize(s, sizeof full - 2, out, sizeof out, NULL), PRB_EINVAL);
    cr_assert_str_eq(out, "cn-rid: must be 18 characters, got 17");
    cr_assert_eq(prb_ident_normalize(s, 6, out, sizeof out, NULL), PRB_EINVAL);
    cr_assert_str_eq(out, "missing ':' between scheme and value");
    free(s);
}

Test(ident, output_may_be_the_input_buffer)
{
    char buf[PRB_IDENT_MAX] = " LEI: 5493001kjtiigc8y1r12 ";
    int scheme = 0;

    cr_assert_eq(prb_ident_normalize(buf, strlen(buf), buf, sizeof buf, &scheme), PRB_OK);
    cr_assert_str_eq(buf, "lei:5493001KJTIIGC8Y1R12");
    cr_assert_eq(scheme, PRB_SCHEME_LEI);
}

/* ------------------------------------------- properties over many inputs */

/* A fixed-seed generator so failures reproduce. */
static uint32_t next(uint64_t *st)
{
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*st >> 33);
}

Test(ident, generated_cn_rid_with_exported_check_is_accepted_and_wrong_check_refused)
{
    uint64_t st = 1;
    for (int i = 0; i < 2000; i++) {
        char in[40], out[PRB_IDENT_MAX];
        char d[32];
        unsigned area = 100000 + next(&st) % 900000, year = 1900 + next(&st) % 200;
        unsigned month = 1 + next(&st) % 12, day = 1 + next(&st) % 28, seq = next(&st) % 1000;

        snprintf(d, sizeof d, "%06u%04u%02u%02u%03u", area, year, month, day, seq);
        char c = prb_ident_cn_rid_check(d);
        snprintf(in, sizeof in, "cn-rid:%.17s%c", d, c);
        cr_assert_eq(norm(in, out, sizeof out, NULL), PRB_OK, "%s: %s", in, out);
        in[24] = c == '0' ? '1' : '0';
        cr_assert_eq(norm(in, out, sizeof out, NULL), PRB_EINVAL, "%s accepted", in);
        cr_assert_not_null(strstr(out, "cn-rid: check character"), "%s", out);
    }
}

Test(ident, generated_uscc_lei_and_taxid_with_exported_checks_are_accepted)
{
    static const char uscc[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t st = 2;

    for (int i = 0; i < 2000; i++) {
        char in[64], out[PRB_IDENT_MAX], v[21];

        for (int j = 0; j < 17; j++)
            v[j] = uscc[next(&st) % 31];
        v[17] = prb_ident_cn_uscc_check(v);
        snprintf(in, sizeof in, "cn-uscc:%.18s", v);
        cr_assert_eq(norm(in, out, sizeof out, NULL), PRB_OK, "%s: %s", in, out);

        for (int j = 0; j < 18; j++)
            v[j] = alnum[next(&st) % 36];
        cr_assert_eq(prb_ident_lei_check(v, v + 18), 0);
        snprintf(in, sizeof in, "lei:%.20s", v);
        cr_assert_eq(norm(in, out, sizeof out, NULL), PRB_OK, "%s: %s", in, out);

        /* Random digits mostly break the spread rule; the point is that a
         * number with the exported check digit never fails on its check. */
        for (int j = 0; j < 10; j++)
            v[j] = (char)('0' + next(&st) % 10);
        v[10] = prb_ident_de_taxid_check(v);
        snprintf(in, sizeof in, "de-taxid:%.11s", v);
        if (norm(in, out, sizeof out, NULL) != PRB_OK)
            cr_assert_null(strstr(out, "check digit"), "%s: %s", in, out);
    }
}

/* Random bytes, biased towards real scheme prefixes so the validators are
 * reached, with random outlen: never more than outlen bytes written, the
 * result always terminated, and accepted output normalises to itself. */
Test(ident, random_input_never_overruns_and_accepted_output_is_canonical)
{
    static const char *const pre[] = {"cn-rid:", "CN-USCC:", "lei:", "de-taxid:", "ext:b:", ""};
    static const char bytes[] = "0123456789xXaAzZ:-_./ \t\0\x01\x7f\xc3\xa9iIoO";
    uint64_t st = 3;

    for (int i = 0; i < 20000; i++) {
        char in[128], out[PRB_IDENT_MAX + 8], again[PRB_IDENT_MAX];
        size_t p = strlen(pre[i % 6]), n = p + next(&st) % 40;
        size_t outlen = next(&st) % (PRB_IDENT_MAX + 1);

        memcpy(in, pre[i % 6], p);
        for (size_t j = p; j < n; j++)
            in[j] = bytes[next(&st) % (sizeof bytes - 1)];
        memset(out, '#', sizeof out);
        int rc = prb_ident_normalize(in, n, out, outlen, NULL);
        cr_assert(rc == PRB_OK || rc == PRB_EINVAL, "rc %d", rc);
        for (size_t j = outlen; j < sizeof out; j++)
            cr_assert_eq(out[j], '#', "wrote byte %zu with outlen %zu", j, outlen);
        if (outlen > 0)
            cr_assert_not_null(memchr(out, '\0', outlen), "unterminated output");
        if (rc == PRB_OK) {
            cr_assert_eq(norm(out, again, sizeof again, NULL), PRB_OK, "%s: %s", out, again);
            cr_assert_str_eq(again, out);
        }
    }
}
