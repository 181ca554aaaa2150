"""The layers the folder names show: a module imports only from its own layer or lower ones.

experiment (pure logic) -> records (files) -> report (HTML from the files) -> llm_calls
-> resources -> assets -> definitions -> instance (fenced Dagster internals) -> orchestration
-> console -> commands (one small module per extra subcommand) -> cli
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent
ORDER = [
    "experiment",
    "records",
    "report",
    "llm_calls",
    "resources",
    "assets",
    "definitions",
    "instance",
    "orchestration",
    "console",
    "commands",
    "cli",
]
RANK = {name: i for i, name in enumerate(ORDER)}


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = len(path.relative_to(PACKAGE).parts) > 1
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = node.level - (1 if nested else 0)
            if up <= 0:  # from .x import ... inside a layer folder: the same layer
                continue
            found.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "daydreaming_dagster."
        ):
            found.add(node.module.split(".")[1])
    return found


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        if path.name.startswith("test_") or layer_of(path) not in RANK:
            continue
        for target in imported_layers(path):
            if target in RANK and RANK[target] > RANK[layer_of(path)]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert wrong == []


def module_graph() -> dict[str, set[str]]:
    """Every package module -> the package modules it imports, wherever in the file."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                if node.level:
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycle():
    graph = module_graph()
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            assert cycle is None, " -> ".join(cycle or [])


def production_modules() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if not p.name.startswith("test_")]


def test_small_modules_and_a_thin_command_line():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in production_modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}
    assert len((PACKAGE / "cli.py").read_text(encoding="utf-8").splitlines()) <= 200


def test_private_dagster_apis_only_in_the_instance_folder():
    found = set()
    for path in PACKAGE.parent.glob("*/**/*.py"):
        if ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.startswith("dagster._") for name in names):
                found.add(path.parent.relative_to(PACKAGE.parent).as_posix())
    assert found <= {"daydreaming_dagster/instance"}


def test_dagster_is_bounded_and_every_import_is_declared():
    import sys
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    groups = project["dependency-groups"]
    declared = project["project"]["dependencies"] + groups["dev"] + groups["bench"]
    names = {
        d.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for d in declared
    }
    assert any(d.replace(" ", "").startswith("dagster>=") and "<" in d for d in declared)
    # import name -> distribution name, where they differ
    distributions = {
        "dotenv": "python-dotenv",
        "yaml": "pyyaml",
        "inspect_ai": "inspect-ai",
        "psycopg2": "psycopg2-binary",
    }
    local = {"daydreaming_dagster", "benchmarks", "measure", "mock_endpoint", "report",
             "temp_project", "inspect_workload", "inspect_env", "scale"}  # fmt: skip
    missing = set()
    for folder in ("daydreaming_dagster", "daydreaming_dagster_tests", "benchmarks"):
        for path in (PACKAGE.parent / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    top = [node.module.split(".")[0]]
                elif isinstance(node, ast.Import):
                    top = [alias.name.split(".")[0] for alias in node.names]
                else:
                    continue
                for name in top:
                    if name in sys.stdlib_module_names or name in local:
                        continue
                    if distributions.get(name, name).lower().replace("_", "-") not in names:
                        missing.add(name)
    assert missing == set()
