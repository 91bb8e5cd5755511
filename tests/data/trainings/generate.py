#!/usr/bin/env python3
"""Writes the Trainings report fixtures of tests/trainings.rs (deterministic: seed 12).

Run from this folder: `python3 generate.py`. It prints the figures the tests assert.
Layouts are those Partner Center produced (docs: PROGRAM-FACTS.md, "Where the figures
come from"): the 2021 CSV with ExpirationDate, day-first dates from a spreadsheet re-save,
BOM and CRLF; the older TSV without ExpirationDate, `2018-12-25  23:07:22` dates, LF.
"""
import random
from datetime import date, timedelta

random.seed(12)

# (title as Partner Center writes it, catalogue code or None, type)
TITLES = [
    ("Implementing Microsoft Azure Infrastructure Solutions", "70-533", "Exam"),
    ("Exam 70-532: Developing Microsoft Azure Solutions", "70-532", "Exam"),
    ("Architecting Microsoft Azure Solutions", "70-535", "Exam"),
    ("managing  office 365 identities and requirements", "70-346", "Exam"),
    ("Enabling Office 365 Services", "70-347", "Exam"),
    ("MCSA: Office 365", "MCSA-O365", "Certification"),
    ("Querying Data with Transact-SQL", "70-761", "Exam"),
    ("Developing Windows Azure and Web Services", "70-487", "Exam"),
    ("Microsoft Dynamics CRM Online Deployment", "MB2-715", "Exam"),
    ("Data Platform foundational assessment", "ASSESS-DP-FOUNDATIONAL", "Assessment"),
    ("Microsoft Azure Fundamentals", None, "Exam"),
    ("Introduction to Microsoft 365", None, "Course"),
    ("Partner sales enablement: Modern Workplace", None, "Course"),
    ("Power BI in a day", None, "Course"),
]
FIRST = ["Mei", "Lukas", "Hiro", "Tomás", "Grace", "Alex", "Priya", "Sven", "Ana", "Omar",
         "Nadia", "Jon", "Ines", "Kofi", "Lena", "Ravi", "Sara", "Yusuf", "Elif", "Marta"]
LAST = ["Chen", "Becker", "Tanaka", "Herrera", "Okafor", "Morgan", "Raman", "Berg",
        "Silva", "Haddad", "Novak", "Park", "Costa", "Mensah", "Fischer"]


def people(n, no_corp_every):
    out = []
    for i in range(n):
        f, l = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        msa = f"{f.lower().replace('á', 'a')}.{l.lower()}{i}@outlook.com"
        corp = "" if i % no_corp_every == 3 else f"{f.lower().replace('á', 'a')}.{l.lower()}{i}@contoso.com"
        out.append((f, l, msa, corp))
    return out


def rows_for(person, k):
    chosen = random.sample(TITLES, k)
    for title, code, kind in chosen:
        d = date(2018, 1, 1) + timedelta(days=random.randrange(0, 365 * 7))
        yield title, code, kind, d, random.randrange(0, 24), random.randrange(0, 60), random.randrange(0, 60)


def write(path, header, rows, sep, eol, bom):
    with open(path, "wb") as f:
        if bom:
            f.write(b"\xef\xbb\xbf")
        f.write((sep.join(header) + eol).encode())
        for r in rows:
            f.write((sep.join(r) + eol).encode())


def stats(name, recs):
    imported = [r for r in recs if r[1]]
    skipped = [r for r in recs if not r[1]]
    ppl = {r[0][2] for r in imported}
    no_corp = {r[0][2] for r in imported if not r[0][3]}
    print(f"{name}: rows={len(recs)} imported={len(imported)} skipped={len(skipped)} "
          f"skipped_titles={len({r[2] for r in skipped})} people={len(ppl)} "
          f"without_corp={len(no_corp)} with_corp={len(ppl) - len(no_corp)}")


# 1. The 2021 layout, CSV, BOM, CRLF, day-first dates (a spreadsheet re-save).
H2021 = ["TrainingActivityId", "TrainingTitle", "TrainingType", "IndividualFirstName",
         "IndividualLastName", "Email", "CorpEmail", "TrainingCompletionDate", "Month", "IcMCP",
         "MCPID", "MPNId", "PartnerName", "PartnerCityLocation", "PartnerCountryLocation",
         "ExpirationDate", "ActivationStatus"]
rows, recs, n = [], [], 0
for p in people(45, 7):
    for title, code, kind, d, hh, mm, ss in rows_for(p, random.randrange(3, 7)):
        n += 1
        expires = ""
        if kind == "Certification":
            e = d + timedelta(days=730)
            expires = f"{e.day:02}/{e.month:02}/{e.year} 00:00"
        rows.append([str(900000 + n), title, kind, p[0], p[1], p[2], p[3],
                     f"{d.day:02}/{d.month:02}/{d.year} {hh:02}:{mm:02}", f"{d.year}-{d.month:02}",
                     "Yes", str(10000 + n), "1234567", "Contoso Ltd", '"Redmond, WA"',
                     "United States", expires, "Active"])
        recs.append((p, code, title))
write("Export_trainings_Lifetime_1234567_Contoso_Ltd.csv", H2021, rows, ",", "\r\n", True)
stats("2021 csv", recs)

# 2. The older layout, TSV, LF, ISO dates with two spaces.
HOLD = H2021[:15]
rows, recs = [], []
for p in people(42, 6):
    for title, code, kind, d, hh, mm, ss in rows_for(p, random.randrange(3, 6)):
        n += 1
        rows.append([str(900000 + n), title, kind, p[0], p[1], p[2], p[3],
                     f"{d.isoformat()}  {hh:02}:{mm:02}:{ss:02}", f"{d.year}-{d.month:02}",
                     "Yes", str(10000 + n), "1234567", "Contoso Ltd", "Redmond",
                     "United States"])
        recs.append((p, code, title))
write("Trainings_2019.tsv", HOLD, rows, "\t", "\n", False)
stats("older tsv", recs)
