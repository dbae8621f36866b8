"""Benchmark: BG/NBD + Gamma-Gamma fit and scoring at scale, salesperf side by side with lifetimes and pymc-marketing.

Usage::

    .venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--peers lifetimes,pymc] [--timeout 3600]

Data: ``--customers`` customers drawn from the BG/NBD process (r=0.243, alpha=4.414, a=0.793, b=2.426, the CDNOW
estimates, time unit weeks) with first purchases spread uniformly over two years (T = 1..728 days, in weeks) and
recency rounded down to whole days, as it is when it comes from order dates; mean repeat spend from the Gamma-Gamma
process (p=6.25, q=3.74, gamma=15.44), rounded to cents. Seeded; written once to benchmarks/.data/ (git-ignored).

Pipeline timed for every tool, in a fresh subprocess each (wall seconds after imports and data loading; peak RSS of
the process from resource.getrusage, which includes the interpreter, imports and the loaded arrays):
BG/NBD fit, P(alive), expected purchases in the next 12 weeks, Gamma-Gamma fit on repeat buyers, CLV over 12 monthly
steps of 4.345 weeks at 1 % a month (lifetimes' and pymc-marketing's ``freq/time_unit='W'`` convention).

Peers run in their own virtual environments (benchmarks/.venvs/<peer>, requirements in benchmarks/peers/<peer>.txt),
created here with ``python3 -m venv`` + uv (or pip) when missing; nothing is installed into the project's venv.
The markdown table goes to stdout and to benchmarks/results/clv.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_DIR = HERE / ".data"
VENVS = HERE / ".venvs"
PEERS = {"lifetimes": "lifetimes 0.11.3", "pymc": "pymc-marketing (MAP)"}
TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}
HORIZON_WEEKS = 12
CLV_MONTHS, CLV_STEP_WEEKS, CLV_MONTHLY_DISCOUNT = 12, 4.345, 0.01


# ---------------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------------


def make_data(n_customers: int, seed: int, day_resolution: bool = True) -> Path:
    """Simulate and save frequency / recency / T / monetary_value (weeks) to an .npz file; return its path."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from salesperf.analyses.lifecycle.clv import simulate_betageo

    kind = "days" if day_resolution else "continuous"
    path = DATA_DIR / f"clv_{n_customers}_{seed}_{kind}.npz"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    if day_resolution:
        t_cal = rng.integers(1, 729, n_customers) / 7.0
    else:
        t_cal = rng.uniform(1 / 7, 104, n_customers)
    data = simulate_betageo(
        n_customers, **TRUE_BG, T=t_cal, seed=seed + 1, resolution=1 / 7 if day_resolution else None
    )
    x = data["frequency"].to_numpy()
    nu = rng.gamma(TRUE_GG["q"], 1 / TRUE_GG["gamma"], n_customers)
    repeat = x > 0
    monetary = np.zeros(n_customers)
    monetary[repeat] = rng.gamma(TRUE_GG["p"] * x[repeat], 1 / (nu[repeat] * x[repeat]))
    if day_resolution:
        monetary[repeat] = np.maximum(np.round(monetary[repeat], 2), 0.01)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, frequency=x, recency=data["recency"].to_numpy(), T=data["T"].to_numpy(), monetary_value=monetary
    )
    return path


# ---------------------------------------------------------------------------------------------------------------------
# Workers (run in a subprocess, possibly under a peer's interpreter: only stdlib at module level)
# ---------------------------------------------------------------------------------------------------------------------


def worker_salesperf(data: dict) -> dict:
    from salesperf.analyses.lifecycle import clv

    f, r, t, m = data["frequency"], data["recency"], data["T"], data["monetary_value"]
    stages = {}
    start = time.perf_counter()
    bg = clv.BetaGeo().fit(f, r, t)
    stages["bg_fit"] = time.perf_counter() - start
    alive = bg.probability_alive(f, r, t)
    purchases = bg.expected_purchases(HORIZON_WEEKS, f, r, t)
    stages["bg_score"] = time.perf_counter() - start - stages["bg_fit"]
    gg = clv.GammaGamma().fit(f, m)
    value = gg.customer_lifetime_value(
        bg, f, r, t, m, horizon=CLV_MONTHS, discount_rate=CLV_MONTHLY_DISCOUNT, step=CLV_STEP_WEEKS
    )
    wall = time.perf_counter() - start
    stages["gg_fit_clv"] = wall - stages["bg_fit"] - stages["bg_score"]
    return _outputs(
        wall, stages, bg.params_, gg.params_, alive, purchases, value, extra={"distinct_rows": bg.n_unique_}
    )


def worker_lifetimes(data: dict) -> dict:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    start = time.perf_counter()
    frame = pd.DataFrame(data)
    f, r, t, m = frame["frequency"], frame["recency"], frame["T"], frame["monetary_value"]
    stages = {}
    bg = BetaGeoFitter(penalizer_coef=0.0).fit(f, r, t)
    stages["bg_fit"] = time.perf_counter() - start
    alive = bg.conditional_probability_alive(f, r, t)
    purchases = bg.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, t)
    stages["bg_score"] = time.perf_counter() - start - stages["bg_fit"]
    repeat = f > 0
    gg = GammaGammaFitter(penalizer_coef=0.0).fit(f[repeat], m[repeat])
    value = gg.customer_lifetime_value(
        bg, f, r, t, m, time=CLV_MONTHS, discount_rate=CLV_MONTHLY_DISCOUNT, freq="W"
    )
    wall = time.perf_counter() - start
    stages["gg_fit_clv"] = wall - stages["bg_fit"] - stages["bg_score"]
    return _outputs(wall, stages, dict(bg.params_), dict(gg.params_), alive, purchases, value)


def worker_pymc(data: dict) -> dict:
    import numpy as np
    import pandas as pd
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    start = time.perf_counter()
    n = len(data["frequency"])
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "frequency": data["frequency"],
            "recency": data["recency"],
            "T": data["T"],
        }
    )
    stages = {}
    bg = BetaGeoModel(data=frame)
    bg.fit(method="map")
    stages["bg_fit"] = time.perf_counter() - start
    alive = bg.expected_probability_alive(frame).values.reshape(-1)
    purchases = bg.expected_purchases(frame, future_t=HORIZON_WEEKS).values.reshape(-1)
    stages["bg_score"] = time.perf_counter() - start - stages["bg_fit"]
    spend = frame.assign(monetary_value=data["monetary_value"])
    gg = GammaGammaModel(data=spend[spend["frequency"] > 0])
    gg.fit(method="map")
    value = gg.expected_customer_lifetime_value(
        transaction_model=bg,
        data=spend,
        future_t=CLV_MONTHS,
        discount_rate=CLV_MONTHLY_DISCOUNT,
        time_unit="W",
    ).values.reshape(-1)
    wall = time.perf_counter() - start
    stages["gg_fit_clv"] = wall - stages["bg_fit"] - stages["bg_score"]
    posterior = bg.idata.posterior
    bg_params = {k: float(posterior[k].values.mean()) for k in ("r", "alpha", "a", "b")}
    gg_posterior = gg.idata.posterior
    gg_params = {k: float(gg_posterior[k].values.mean()) for k in ("p", "q", "v")}
    return _outputs(wall, stages, bg_params, gg_params, alive, purchases, value)


def _outputs(wall, stages, bg_params, gg_params, alive, purchases, value, extra=None) -> dict:
    import numpy as np

    return {
        "wall_s": wall,
        "stages_s": stages,
        "bg_params": {k: float(v) for k, v in bg_params.items()},
        "gg_params": {
            ("gamma" if k == "v" else k): float(v) for k, v in gg_params.items()
        },  # peers call it v
        "mean_p_alive": float(np.mean(np.asarray(alive, float))),
        "total_expected_purchases_12w": float(np.sum(np.asarray(purchases, float))),
        "mean_clv": float(np.mean(np.asarray(value, float))),
        **(extra or {}),
    }


def run_worker(tool: str, data_path: str) -> None:
    """Entry point inside the subprocess: import, load, run, print one JSON line."""
    import_start = time.perf_counter()
    import numpy as np

    worker = {"salesperf": worker_salesperf, "lifetimes": worker_lifetimes, "pymc": worker_pymc}[tool]
    with np.load(data_path) as archive:
        data = {k: archive[k] for k in ("frequency", "recency", "T", "monetary_value")}
    _preimport(tool)
    setup = time.perf_counter() - import_start
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    result = worker(data)
    usage_after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = (usage_after.ru_utime + usage_after.ru_stime) - (
        usage_before.ru_utime + usage_before.ru_stime
    )
    result["setup_s"] = setup
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def _preimport(tool: str) -> None:
    """Import the tool's packages before the clock starts, so wall time is the computation only."""
    import warnings

    warnings.filterwarnings("ignore")
    if tool == "salesperf":
        import salesperf.analyses.lifecycle.clv  # noqa: F401
    elif tool == "lifetimes":
        import lifetimes  # noqa: F401
    else:
        import pymc_marketing.clv  # noqa: F401


# ---------------------------------------------------------------------------------------------------------------------
# Peer environments
# ---------------------------------------------------------------------------------------------------------------------


def ensure_peer_venv(peer: str) -> tuple[Path | None, str]:
    """Create benchmarks/.venvs/<peer> from benchmarks/peers/<peer>.txt when missing; return (python, note)."""
    venv = VENVS / peer
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    requirements = HERE / "peers" / f"{peer}.txt"
    if python.exists() and marker.exists() and marker.read_text() == requirements.read_text():
        return python, ""
    print(f"setting up {venv} from {requirements.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
    try:
        if not python.exists():
            subprocess.run(
                [_system_python(), "-m", "venv", str(venv)], check=True, capture_output=True, text=True
            )
        uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
        if Path(uv).exists():
            command = [uv, "pip", "install", "--python", str(python), "-r", str(requirements)]
        else:
            command = [str(python), "-m", "pip", "install", "-r", str(requirements)]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=1800)
        marker.write_text(requirements.read_text())
        return python, ""
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        output = getattr(error, "stderr", None) or getattr(error, "stdout", None) or str(error)
        lines = [line for line in str(output).strip().splitlines() if line.strip()]
        return None, "install failed: " + " / ".join(lines[-3:])[:300]


def _system_python() -> str:
    for candidate in ("python3", "python"):
        found = shutil.which(candidate)
        if found and not found.startswith(str(ROOT / ".venv")):
            return found
    return sys.executable


def run_tool(python: str, tool: str, data_path: Path, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) if tool == "salesperf" else "")
    if tool != "salesperf":
        env.pop("PYTHONPATH")
    try:
        completed = subprocess.run(
            [python, str(Path(__file__).resolve()), "--worker", tool, "--data", str(data_path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(ROOT),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = [line for line in (completed.stderr or completed.stdout).strip().splitlines() if line.strip()][-3:]
    return {"error": f"exit {completed.returncode}: " + " / ".join(tail)[:300]}


# ---------------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------------


def format_table(n_customers: int, rows: list[tuple[str, dict]]) -> str:
    lines = [
        (
            "| customers | tool | wall s | CPU s | peak MB | fit BG/NBD s | P(alive)+E[purchases] s | GG fit+CLV s "
            "| r / alpha / a / b | p / q / gamma | mean CLV | note |"
        ),
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|---:|---|",
    ]
    for tool, result in rows:
        if "error" in result:
            lines.append(
                f"| {n_customers:,} | {tool} | — | — | — | — | — | — | — | — | — | {result['error']} |"
            )
            continue
        stages, bg, gg = result["stages_s"], result["bg_params"], result["gg_params"]
        note = result.get("note", "")
        lines.append(
            f"| {n_customers:,} | {tool} | {result['wall_s']:.2f} | {result['cpu_s']:.2f} | {result['peak_rss_mb']:.0f} "
            f"| {stages['bg_fit']:.2f} | {stages['bg_score']:.2f} | {stages['gg_fit_clv']:.2f} "
            f"| {bg['r']:.4f} / {bg['alpha']:.4f} / {bg['a']:.4f} / {bg['b']:.4f} "
            f"| {gg['p']:.3f} / {gg['q']:.3f} / {gg['gamma']:.3f} | {result['mean_clv']:.3f} | {note} |"
        )
    return "\n".join(lines)


def speedups(rows: list[tuple[str, dict]]) -> list[str]:
    ours = dict(rows).get("salesperf")
    if not ours or "error" in ours:
        return []
    out = []
    for tool, result in rows:
        if tool.startswith("salesperf") or "error" in result:
            continue
        out.append(
            f"- salesperf vs {tool}: {result['wall_s'] / ours['wall_s']:.1f}x faster in wall time "
            f"({result['cpu_s'] / ours['cpu_s']:.1f}x in CPU time), "
            f"{result['peak_rss_mb'] / ours['peak_rss_mb']:.1f}x less peak memory; "
            f"mean CLV differs by {100 * (result['mean_clv'] / ours['mean_clv'] - 1):+.2f} %"
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--peers", default="lifetimes,pymc", help="comma-separated subset of: lifetimes, pymc; or ''"
    )
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per tool run")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "clv.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, args.data)
        return 0

    n = args.customers
    load_before = os.getloadavg()[0]
    data_path = make_data(n, args.seed)
    rows: list[tuple[str, dict]] = []
    print(f"running salesperf on {n:,} customers ...", file=sys.stderr, flush=True)
    ours = run_tool(sys.executable, "salesperf", data_path, args.timeout)
    if "error" not in ours:
        ours["note"] = f"{ours['distinct_rows']:,} distinct (frequency, recency, T) rows"
    rows.append(("salesperf", ours))
    continuous = run_tool(
        sys.executable, "salesperf", make_data(n, args.seed, day_resolution=False), args.timeout
    )
    if "error" not in continuous:
        continuous["note"] = (
            "other data: continuous times, every row distinct (no collapsing benefit); "
            "not comparable with the peers' rows"
        )
    rows.append(("salesperf (all rows distinct)", continuous))
    for peer in [p for p in args.peers.split(",") if p]:
        python, note = ensure_peer_venv(peer)
        if python is None:
            rows.append((PEERS[peer], {"error": note}))
            continue
        print(f"running {PEERS[peer]} on {n:,} customers ...", file=sys.stderr, flush=True)
        rows.append((PEERS[peer], run_tool(str(python), peer, data_path, args.timeout)))

    (DATA_DIR / f"clv_{n}_results.json").write_text(json.dumps(dict(rows), indent=1))  # raw numbers, git-ignored
    table = format_table(n, rows)
    header = (
        f"# CLV benchmark: BG/NBD + Gamma-Gamma, {n:,} simulated customers\n\n"
        f"Generated by `benchmarks/bench_clv.py --customers {n}` (seed {args.seed}) on {platform.node() or 'this machine'}"
        f" ({os.cpu_count()} cores, Python {platform.python_version()}); 1-minute load average "
        f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after the runs (other jobs on the machine slow every "
        "tool alike; compare rows of one run, not runs).\n\n"
        f"Truth: BG/NBD r={TRUE_BG['r']}, alpha={TRUE_BG['alpha']}, a={TRUE_BG['a']}, b={TRUE_BG['b']} (weeks); "
        f"Gamma-Gamma p={TRUE_GG['p']}, q={TRUE_GG['q']}, gamma={TRUE_GG['gamma']}. "
        "Wall = BG/NBD fit + P(alive) + expected purchases in 12 weeks + Gamma-Gamma fit + 12-month CLV (1 %/month), "
        "after imports and data loading; CPU s = user + system time of that part (all threads); peak MB = max RSS of the tool's own process. pymc-marketing's gamma is its "
        "`v`; its MAP estimates include its default priors.\n\n"
    )
    report = header + table + "\n\n" + "\n".join(speedups(rows)) + "\n"
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
