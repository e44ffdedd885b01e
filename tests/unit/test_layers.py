"""The layers import one way: web/cli -> services -> domain, psychometrics, storage; domain -> stdlib."""

import ast
import sys
from pathlib import Path

import testengine

PACKAGE = Path(testengine.__file__).parent
ALLOWED = {
    "domain": {"domain"},
    "psychometrics": {"domain", "psychometrics"},
    "storage": {"domain", "storage", "settings"},
    "services": {"domain", "psychometrics", "storage", "services", "settings"},
    "web": {"domain", "services", "web", "settings"},
    # The command line may start the web app; both reach data only through services.
    "cli": {"cli", "domain", "services", "settings", "web"},
}


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE).parts
    return relative[0] if len(relative) > 1 else path.stem


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = layer_of(path)
        if layer not in ALLOWED:
            continue
        for name in imports(path):
            if name.startswith("testengine."):
                target = name.split(".")[1]
                if target not in ALLOWED[layer]:
                    wrong.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert wrong == []


def test_the_domain_imports_only_the_standard_library():
    outside = []
    for path in (PACKAGE / "domain").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            if top != "testengine" and top not in sys.stdlib_module_names:
                outside.append(f"{path.name} imports {name}")
    assert outside == []


def test_the_domain_reads_no_clock_and_no_global_random():
    for path in (PACKAGE / "domain").rglob("*.py"):
        text = path.read_text()
        for forbidden in ("datetime.now", "time.time(", "random.random(", "random.shuffle(", "random.choice("):
            assert forbidden not in text, f"{path.name} uses {forbidden}"
