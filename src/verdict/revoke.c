/* revoke.c - the fixed words of revocation answers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "verdict/revoke.h"

const char *
rev_status_name(enum rev_status s)
{
	static const char *const names[REV_NSTATUS] = { "good", "revoked", "unknown", "error" };

	return (unsigned)s < REV_NSTATUS ? names[s] : "error";
}

const char *
rev_reason_name(int reason)
{
	static const char *const names[REV_REASON_MAX + 1] = {
		"unspecified", "key_compromise", "ca_compromise", "affiliation_changed",
		"superseded", "cessation_of_operation", "certificate_hold",
		NULL /* 7: not assigned */, "remove_from_crl", "privilege_withdrawn",
		"aa_compromise",
	};

	if (reason < 0 || reason > REV_REASON_MAX || names[reason] == NULL)
		return names[0];
	return names[reason];
}

void
rev_error(struct rev_answer *a, const char *fmt, ...)
{
	va_list ap;

	memset(a, 0, sizeof(*a));
	a->status = REV_ERROR;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
}
