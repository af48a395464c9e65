"""Run Slither on the project's contracts with the project's solc, and fail on any high or
medium finding that docs/security.md does not list with its reason.

    .venv/bin/python tools/slither_check.py        (also `make lint`, and part of `make test`)

Accepted findings are the rows of the table under "## Accepted static-analysis findings" in
docs/security.md: `| detector | contract.function | reason |`."""

import re
import sys
from pathlib import Path

from crytic_compile import CryticCompile
from crytic_compile.platform.solc_standard_json import SolcStandardJson
from slither import Slither
from slither.detectors import all_detectors
from slither.detectors.abstract_detector import AbstractDetector

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ["VVVToken.sol", "VVVStaking.sol", "EmissionsController.sol", "EpochOracle.sol", "ComputeRights.sol"]
SECURITY_DOC = ROOT / "docs" / "security.md"
FAILING_IMPACTS = {"High", "Medium"}


def accepted_findings() -> set[tuple[str, str]]:
    """(detector, contract.function) pairs listed in docs/security.md with a reason."""
    text = SECURITY_DOC.read_text()
    section = text.split("## Accepted static-analysis findings", 1)[1].split("\n## ", 1)[0]
    accepted = set()
    for line in section.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("detector", "") and not set(cells[0]) <= {"-"} and cells[2]:
            accepted.add((cells[0], cells[1]))
    return accepted


def run() -> list[dict]:
    standard = SolcStandardJson()
    for name in CONTRACTS:
        standard.add_source_file(str(ROOT / "contracts" / name))
    standard.add_remapping(f"@openzeppelin/contracts/={ROOT}/node_modules/@openzeppelin/contracts/")
    settings = standard.to_dict().setdefault("settings", {})
    settings["evmVersion"] = "cancun"
    settings["optimizer"] = {"enabled": True, "runs": 10_000}
    compilation = CryticCompile(standard, solc=str(ROOT / ".solcx" / "solc-v0.8.30"), solc_working_dir=str(ROOT))
    slither = Slither(compilation)
    for detector in vars(all_detectors).values():
        is_detector = isinstance(detector, type) and issubclass(detector, AbstractDetector)
        if is_detector and detector is not AbstractDetector:
            slither.register_detector(detector)
    return [result for results in slither.run_detectors() for result in results]


def location(result: dict) -> str:
    for element in result.get("elements", []):
        if element.get("type") == "function":
            parent = element.get("type_specific_fields", {}).get("parent", {}).get("name", "?")
            return f"{parent}.{element['name']}"
    for element in result.get("elements", []):
        return str(element.get("name", "?"))
    return "?"


def main() -> int:
    results = [r for r in run() if "node_modules" not in str(r.get("first_markdown_element", ""))]
    accepted = accepted_findings()
    failing = []
    for result in results:
        key = (result["check"], location(result))
        status = "accepted" if key in accepted else ("FAIL" if result["impact"] in FAILING_IMPACTS else "note")
        if status == "FAIL":
            failing.append(result)
        first_line = re.sub(r"\s+", " ", result["description"].splitlines()[0])[:140]
        print(f"[{result['impact']:>13}] {status:8} {key[0]} @ {key[1]}: {first_line}")
    print(f"slither: {len(results)} findings, {len(failing)} high/medium not accepted in {SECURITY_DOC.name}")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
