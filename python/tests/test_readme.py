"""The README's pytest example, run as written (its block is extracted and executed)."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_pytest_example_runs_and_passes():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, "the README has one Python example"
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 12, "the example stays short"
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert tests
    for t in tests:
        t()
