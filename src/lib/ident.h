/*
 * ident.h - check characters of the identifier schemes, shared by the
 * validator (ident.c) and the synthetic population (gen.c) so both agree
 * on one implementation of each ISO 7064 / GB 32100 algorithm.
 */
#ifndef PRB_IDENT_H
#define PRB_IDENT_H

/* cn-rid: ISO 7064 MOD 11-2 over 17 digits; returns '0'..'9' or 'X'. */
char prb_ident_cn_rid_check(const char d[17]);
/* cn-uscc: GB 32100-2015 over 17 characters of the code's alphabet;
 * returns the check character, or 0 if a character is outside it. */
char prb_ident_cn_uscc_check(const char c[17]);
/* lei: ISO 17442 (MOD 97-10) over 18 characters [0-9A-Z]; writes the two
 * check digits into out and returns 0, or -1 on a bad character. */
int prb_ident_lei_check(const char c[18], char out[2]);
/* de-taxid: ISO 7064 MOD 11,10 over 10 digits; returns '0'..'9'. */
char prb_ident_de_taxid_check(const char d[10]);

#endif
