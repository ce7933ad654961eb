"""The ranking's error rates by simulation (a larger run than tests/leaderboard/test_ranking.py).

    python benchmarks/ranking_simulation.py [--reps 2000]

Simulated boards (tests/leaderboard/simulation.py: G units with 1 + Poisson(2) reference tags,
entries finding each with their recall rate, Poisson(0.5) false tags per unit). Prints, with a
95% Wilson interval for each rate:

* under the null (every entry the same rate) the family-wise error of the ranking's pair tests
  with Holm's correction, and without it, for several numbers of entries and units;
* with known differences, the power (share of truly different pairs found) of the delta-method
  test, and of the earlier percentile bootstrap with the scorer's B = 1000 and with B = 4m/α − 1.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.leaderboard import simulation  # noqa: E402


def wilson(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def shown(rate: float, n: int) -> str:
    low, high = wilson(rate, n)
    return f"{rate:.3f} [{low:.3f}, {high:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    reps = args.reps
    print("Null (all entries equal): family-wise error, α = 0.05")
    print("| entries | pairs | units | Holm | no correction |")
    print("|---|---|---|---|---|")
    for entries, units in ((5, 128), (10, 128), (10, 32), (10, 768), (30, 128)):
        holm, _ = simulation.error_rates([0.5] * entries, units, reps, seed=entries * 1000 + units)
        none, _ = simulation.error_rates([0.5] * entries, units, reps, seed=entries * 1000 + units, correction=simulation.NONE)
        print(f"| {entries} | {entries * (entries - 1) // 2} | {units} | {shown(holm, reps)} | {shown(none, reps)} |", flush=True)

    rates = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    spread = [0.60, 0.57, 0.54, 0.51, 0.48, 0.45, 0.42, 0.39, 0.36, 0.33]
    print("\nKnown differences, 10 entries (45 pairs), 128 units: power (share of different pairs found), family-wise error")
    print("| rates | test | power | family-wise error |")
    print("|---|---|---|---|")
    few = max(20, reps // 20)  # the percentile bootstrap costs B resamples per board
    tests = (
        ("delta method (this ranking)", simulation.delta_method_p, reps),
        ("percentile, B = 1000", functools.partial(simulation.percentile_p, n_boot=1000, seed=0), few),
        ("percentile, B = 4m/α − 1 = 3599", functools.partial(simulation.percentile_p, n_boot=3599, seed=0), few),
    )
    for name, values in (("0.9 … 0.05 (far apart)", rates), ("0.60 … 0.33 (3 points apart)", spread)):
        for test, p_values, n in tests:
            fwer, power = simulation.error_rates(values, 128, n, seed=7, p_values=p_values)
            pairs = 45 * n
            print(f"| {name} | {test} | {shown(power, pairs)} | {shown(fwer, n)} |", flush=True)


if __name__ == "__main__":
    main()
