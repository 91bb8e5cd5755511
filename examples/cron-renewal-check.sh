#!/usr/bin/env bash
# Nightly membership renewal check for cron.
#
# `competency membership check` evaluates the organization now, records renewal alerts and
# exits with (SPEC §3):
#   0  ok        nothing to do
#   3  warning   still eligible, but the renewal window is open or an achievement a
#                displayed competency relies on expires before the anniversary
#   4  at-risk   a competency the business profile shows is no longer met
#   5  none      no active membership (never bought, or lapsed)
#   1  error     (database problem, no organization, ...)
# On 3, 4 and 5 this script also writes the HTML report (`competency report`, mode 0600)
# and mails the check's output with the report attached (GNU mailutils `mail -A`) or with its
# path (other `mail` programs), or logs both (logger) when there is no `mail`.
#
# Install, e.g. every night at 06:15 (crontab -e):
#   15 6 * * *  COMPETENCY_DB=/srv/competency/competency.db MAILTO_ADMIN=mpn-admin@example.com /usr/local/bin/cron-renewal-check.sh
#
# Settings (environment):
#   COMPETENCY_DB     the database (else competency's own default)
#   COMPETENCY_ORG    the organization, when the database holds several
#   MAILTO_ADMIN      who gets the mail [default: the user running the job]
#   COMPETENCY_BIN    the competency binary [default: competency on PATH]
#   REPORT_DIR        where the HTML reports go (created 0700)
#                     [default: $HOME/competency-reports]
set -u

bin=${COMPETENCY_BIN:-competency}
to=${MAILTO_ADMIN:-$(id -un)}

# cron runs with a minimal environment: make sure the binary is found.
if ! command -v "$bin" >/dev/null 2>&1; then
    logger -t competency-check -p user.err "competency binary not found: $bin" 2>/dev/null \
        || echo "competency binary not found: $bin" >&2
    exit 1
fi

# The table is for people; --no-color keeps it plain in mail and syslog.
report=$("$bin" --no-color membership check 2>&1)
status=$?

case $status in
    0) exit 0 ;;
    3) subject="Competency membership: warning (renewal window open or achievements expiring)" ;;
    4) subject="Competency membership: AT RISK (a displayed competency is no longer met)" ;;
    5) subject="Competency membership: no active membership" ;;
    *) subject="Competency membership check failed (exit $status)" ;;
esac

# The page a manager reads: one self-contained HTML file, replaced when run again the same day.
dir=${REPORT_DIR:-${HOME:-/tmp}/competency-reports}
page="$dir/competency-report-$(date -u +%Y-%m-%d).html"
if (umask 077 && mkdir -p "$dir") && "$bin" -q report --out "$page" --force >/dev/null 2>&1; then
    report=$(printf '%s\n\nReport: %s\n' "$report" "$page")
else
    report=$(printf '%s\n\n(the HTML report could not be written to %s)\n' "$report" "$page")
    page=
fi

if command -v mail >/dev/null 2>&1; then
    if [ -n "$page" ] && mail --version 2>/dev/null | grep -q 'GNU Mailutils'; then
        printf '%s\n' "$report" | mail -s "$subject" -A "$page" "$to"
    else
        printf '%s\n' "$report" | mail -s "$subject" "$to"
    fi
else
    # One syslog line per report line, so nothing is truncated.
    printf '%s\n%s\n' "$subject" "$report" | logger -t competency-check -p user.warning
fi
exit "$status"
