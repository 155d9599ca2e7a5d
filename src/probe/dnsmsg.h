/* dnsmsg.h - the records of one DNS response (TLSA, MX or TXT) and its
 * header flags, read with every length bounded. Pure: no I/O. */
#ifndef TLSWATCH_DNSMSG_H
#define TLSWATCH_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

enum dns_type {
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_TLSA = 52,
};

/* Records of the asked type kept from one answer; more is an error (a
 * real TLSA, MX or TXT set has a handful). */
#define DNSMSG_MAX_RECORDS 32

/* RFC 6698 section 2.1: usage, selector, matching type, then the data. */
struct dns_tlsa {
	uint8_t usage;
	uint8_t selector;
	uint8_t mtype;
	size_t len;
	unsigned char *data;
};

/* RFC 1035 section 3.3.9. host is lowercase without the final dot; ""
 * is the null MX of RFC 7505 (the domain accepts no mail). */
struct dns_mx {
	uint16_t preference;
	char *host;
};

/* One TXT record: its character-strings joined, as RFC 8461 and RFC 8460
 * read them; NUL-terminated after len bytes (which may hold NULs). */
struct dns_txt {
	size_t len;
	char *text;
};

struct dnsmsg {
	unsigned rcode;        /* 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ... */
	int ad;                /* the resolver says it authenticated the answer */
	int tc;                /* truncated */
	int type;              /* enum dns_type the records below are of */
	size_t n;
	struct dns_tlsa *tlsa; /* type DNS_T_TLSA */
	struct dns_mx *mx;     /* type DNS_T_MX, by preference then host */
	struct dns_txt *txt;   /* type DNS_T_TXT */
	size_t bad;            /* records of the type that were malformed: skipped */
};

/* Read the response msg[0..len) to a query for type (class IN): the
 * header's flags and the answer section's records of that type, at any
 * owner name (CNAMEs on the way are the resolver's business). Returns 0,
 * or -1 with *err a static reason when the message is malformed (a length
 * running past its end, not a response) or holds more than
 * DNSMSG_MAX_RECORDS records of the type. A record malformed inside its
 * own length (a TLSA shorter than 3 bytes, an MX whose host is not a host
 * name) is skipped and counted in bad. *out is always safe to free. */
int dnsmsg_parse(const unsigned char *msg, size_t len, int type, struct dnsmsg *out,
                 const char **err);
void dnsmsg_free(struct dnsmsg *m);

/* Whether s is a host name as MX and TLSA base names must be: labels of
 * letters, digits, '-' and '_', 1 to 63 bytes, 253 in all, no final dot. */
int dns_hostname_ok(const char *s);

/* The rcode's mnemonic ("NOERROR", "SERVFAIL", "NXDOMAIN", ...; "RCODE"
 * for those without one here). */
const char *dns_rcode_name(unsigned rcode);

#endif
