"""A hand-made sales team whose every scorecard figure is computed by hand below (report period October 2026,
run on 2026-11-27; trailing year 2025-11-01 .. 2026-10-31; trend May .. October 2026; coverage base: the
November 2026 quotas).

Reps: A1 Ann (team Alpha, North), A2 Bob (Alpha, South), B1 Cai (Beta, North), B2 Dee (Beta, South, hired
2026-01-01); M1 Mia manages Alpha and has no figures of her own (not scored); L1 Lou left on 2025-06-30
(before the trailing year, not scored).

Orders (net amounts; O4 a return, O6b cancelled, O11 after the period end, O12 without a rep)::

    O1  C1 2025-03-10  1000 A1        base window of the retention only
    O2  C1 2026-10-05  1200 A1        period
    O3  C2 2026-06-15   500 A1        year; C2's first purchase -> new customer of A1
    O4  C2 2026-10-20  -100 A1 returned   period
    O5  C3 2025-06-01   800 A2        base window
    O6  C3 2026-10-10   300 A2        period
    O6b C3 2026-10-10   200 A2 cancelled  counts nowhere
    O7  C4 2026-09-01   400 B1        year; C4's first purchase -> new customer of B1
    O8  C4 2026-10-02   300 A2        period
    O9  C5 2025-01-15   700 B1        base window
    O10 C6 2026-10-25   900 B2        period; C6's first purchase -> new customer of B2
    O11 C6 2026-11-03  5000 B2        after the period end: never read
    O12 C6 2026-10-26    50 --        no rep: unassigned

Bookings, period / year: A1 1200-100 = 1100 / 1100+500 = 1600; A2 300+300 = 600 / 600; B1 0 / 400;
B2 900 / 900; unassigned 50 / 50. Purchase orders, period / year: A1 1 / 2, A2 2 / 2, B1 0 / 1, B2 1 / 1.
Teams, period: Alpha 1100+600 = 1700, Beta 0+900 = 900, company 2600 (+50 unassigned).
Regions, period: North (A1, B1) 1100, South (A2, B2) 1500.

Targets: 1,000 a month for A1, A2, B1 (2025-11 .. 2026-11), 500 a month for B2 (2026-01 .. 2026-11), and a team
key "Alpha" (9,999 for 2026-10: not a rep, not read).
Attainment, period: A1 1100/1000 = 1.1, A2 0.6, B1 0, B2 900/500 = 1.8; Alpha 1700/2000 = 0.85, Beta 900/1500
= 0.6, company 2600/3500. Year: A1 1600/12000, A2 600/12000, B1 400/12000, B2 900/5000 = 0.18.

Opportunities (P5 closes after the period end: open at the end; P9 created after it: never read)::

    P1  A1 created 2026-08-01 closed 2026-10-11 won  1000   cycle 71 days
    P2  A1 created 2026-09-01 closed 2026-10-15 lost  500
    P3  A1 created 2026-10-03 open                   2000
    P4  A2 created 2026-02-01 closed 2026-03-03 won   800   cycle 30
    P5  A2 created 2026-10-01 closed 2026-11-10 won  3000   -> open at the end
    P6  B1 created 2025-12-01 closed 2026-01-20 lost  400
    P7  B1 created 2026-05-01 closed 2026-06-10 won   600   cycle 40
    P8  B2 created 2026-09-15 closed 2026-10-05 won   900   cycle 20
    P9  B2 created 2026-11-02 open                    700   after the end
    P10 A1 created 2025-06-01 closed 2025-07-01 won   100   before the trailing year

Period: A1 won 1 lost 1 (win rate 0.5, deal 1000, cycle 71), created P3 2000; A2 no close (win rate NaN),
created P5 3000; B1 nothing; B2 won 1 (1.0, 900, cycle 20), created nothing.
Year: A1 won 1 lost 1, created P1 P2 P3 = 3500; A2 won 1 (1.0, 800, 30), created P4 P5 = 3800; B1 won 1 lost 1
(0.5, 600, 40), created P6 P7 = 1000; B2 won 1, created P8 = 900. Alpha year: won 2 lost 1 -> 2/3 (not the mean
of 0.5 and 1.0).
Open at the end: A1 2000, A2 3000, B1 0, B2 0. Coverage = open / November quota: A1 2.0, A2 3.0, B1 0, B2 0;
Alpha 5000/2000 = 2.5.

Activities (A1's call of 2026-11-05 and A2's visit of 2025-10-01 are outside every window): A1 period 3 (call
2, visit 1), year 4 (call 2, visit 1, email 1); A2 1 / 1 (call); B1 0 / 2 (email); B2 none.

Book: C1, C2 owned by A1, C3 by A2, C5 by B1, C6 by B2; C4 has no owner: B1 sold it 400, A2 300 -> B1.
Retention (base 2024-11-01 .. 2025-10-31, now 2025-11-01 .. 2026-10-31): C1 1000 -> 1200 (A1), C3 800 -> 300
(A2), C5 700 -> 0 (B1); C2, C4, C6 have no base. A1 NRR 1.2 GRR 1.0; A2 0.375 / 0.375; B1 0 / 0; B2 NaN;
Alpha: base 1800, now 1500, kept 1000+300 = 1300: NRR 1500/1800, GRR 1300/1800.

Feedback (rep_id where given, else the book's rep)::

    F1 C1 2026-10-10 10 nps  -> A1 promoter      F4 C5 2026-05-05 4 csat -> B1
    F2 C2 2026-07-01  6 nps  -> A1 detractor     F5 C6 2026-10-28 5 csat rep B2
    F3 C3 2026-10-12  8 nps  rep A2 (passive)    F6 C4 2026-10-30 9 nps  -> B1 (C4's book) promoter

NPS, year: A1 (1-1)/2 = 0, A2 0, B1 1; period: A1 1, A2 0, B1 1. CSAT, year: B1 4, B2 5; period: B2 5.

New customers (first purchase in the window): period B2 1; year A1 1 (C2), B1 1 (C4), B2 1 (C6).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from salesperf.data.dataset import open_dataset

PERIOD, TODAY = "2026-10", "2026-11-27"
ORDERS = [
    ("O1", "C1", "2025-03-10", 1000.0, "A1", "completed"),
    ("O2", "C1", "2026-10-05", 1200.0, "A1", "completed"),
    ("O3", "C2", "2026-06-15", 500.0, "A1", "completed"),
    ("O4", "C2", "2026-10-20", -100.0, "A1", "returned"),
    ("O5", "C3", "2025-06-01", 800.0, "A2", "completed"),
    ("O6", "C3", "2026-10-10", 300.0, "A2", "completed"),
    ("O6b", "C3", "2026-10-10", 200.0, "A2", "cancelled"),
    ("O7", "C4", "2026-09-01", 400.0, "B1", "completed"),
    ("O8", "C4", "2026-10-02", 300.0, "A2", "completed"),
    ("O9", "C5", "2025-01-15", 700.0, "B1", "completed"),
    ("O10", "C6", "2026-10-25", 900.0, "B2", "completed"),
    ("O11", "C6", "2026-11-03", 5000.0, "B2", "completed"),
    ("O12", "C6", "2026-10-26", 50.0, None, "completed"),
]
CUSTOMERS = [("C1", "A1"), ("C2", "A1"), ("C3", "A2"), ("C4", None), ("C5", "B1"), ("C6", "B2")]
REPS = [
    ("A1", "Ann", "Alpha", "North", "M1", "2020-01-01", None),
    ("A2", "Bob", "Alpha", "South", "M1", "2021-01-01", None),
    ("B1", "Cai", "Beta", "North", None, "2019-01-01", None),
    ("B2", "Dee", "Beta", "South", None, "2026-01-01", None),
    ("M1", "Mia", "Alpha", "North", None, "2015-01-01", None),
    ("L1", "Lou", "Beta", "North", None, "2018-01-01", "2025-06-30"),
]
OPPORTUNITIES = [
    ("P1", "A1", "2026-08-01", "2026-10-11", "Closed Won", "won", 1000.0),
    ("P2", "A1", "2026-09-01", "2026-10-15", "Closed Lost", "lost", 500.0),
    ("P3", "A1", "2026-10-03", None, "Proposal", "open", 2000.0),
    ("P4", "A2", "2026-02-01", "2026-03-03", "Closed Won", "won", 800.0),
    ("P5", "A2", "2026-10-01", "2026-11-10", "Closed Won", "won", 3000.0),
    ("P6", "B1", "2025-12-01", "2026-01-20", "Closed Lost", "lost", 400.0),
    ("P7", "B1", "2026-05-01", "2026-06-10", "Closed Won", "won", 600.0),
    ("P8", "B2", "2026-09-15", "2026-10-05", "Closed Won", "won", 900.0),
    ("P9", "B2", "2026-11-02", None, "Qualification", "open", 700.0),
    ("P10", "A1", "2025-06-01", "2025-07-01", "Closed Won", "won", 100.0),
]
ACTIVITIES = [
    ("T1", "A1", "call", "2026-10-01"),
    ("T2", "A1", "call", "2026-10-02"),
    ("T3", "A1", "visit", "2026-10-03"),
    ("T4", "A1", "email", "2026-06-01"),
    ("T5", "A1", "call", "2026-11-05"),
    ("T6", "A2", "call", "2026-10-05"),
    ("T7", "A2", "visit", "2025-10-01"),
    ("T8", "B1", "email", "2026-03-01"),
    ("T9", "B1", "email", "2026-04-01"),
]
FEEDBACK = [
    ("F1", "C1", "2026-10-10", 10.0, "nps", None),
    ("F2", "C2", "2026-07-01", 6.0, "nps", None),
    ("F3", "C3", "2026-10-12", 8.0, "nps", "A2"),
    ("F4", "C5", "2026-05-05", 4.0, "csat", None),
    ("F5", "C6", "2026-10-28", 5.0, "csat", "B2"),
    ("F6", "C4", "2026-10-30", 9.0, "nps", None),
]


def _targets() -> pd.DataFrame:
    months = [str(m) for m in pd.period_range("2025-11", "2026-11", freq="M")]
    rows = [(rep, m, 1000.0) for rep in ("A1", "A2", "B1") for m in months]
    rows += [("B2", m, 500.0) for m in months if m >= "2026-01"]
    rows.append(("Alpha", "2026-10", 9999.0))
    return pd.DataFrame(rows, columns=["rep_id", "period", "quota"])


def tables() -> dict[str, pd.DataFrame]:
    """The company's canonical tables as frames."""
    return {
        "orders": pd.DataFrame(
            ORDERS, columns=["order_id", "customer_id", "order_date", "amount", "rep_id", "status"]
        ),
        "customers": pd.DataFrame(CUSTOMERS, columns=["customer_id", "owner_rep_id"]),
        "reps": pd.DataFrame(
            REPS, columns=["rep_id", "name", "team", "region", "manager_id", "hire_date", "end_date"]
        ),
        "targets": _targets(),
        "opportunities": pd.DataFrame(
            OPPORTUNITIES,
            columns=["opportunity_id", "rep_id", "created_at", "closed_at", "stage", "status", "amount"],
        ),
        "activities": pd.DataFrame(ACTIVITIES, columns=["activity_id", "rep_id", "type", "at"]),
        "feedback": pd.DataFrame(
            FEEDBACK, columns=["response_id", "customer_id", "responded_at", "score", "kind", "rep_id"]
        ),
    }


def write(folder: Path, only: tuple[str, ...] | None = None, drop: dict | None = None) -> Path:
    """The company (or the tables ``only``; ``drop``: table -> columns to leave out) as CSV files in
    ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables().items():
        if only is None or name in only:
            frame.drop(columns=list((drop or {}).get(name, ()))).to_csv(folder / f"{name}.csv", index=False)
    return folder


def dataset(folder: Path, only: tuple[str, ...] | None = None, drop: dict | None = None):
    """The validated dataset of the company for October 2026."""
    return open_dataset(write(folder, only, drop), PERIOD, TODAY)
