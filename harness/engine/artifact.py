"""A deployed Lambda's own code as an implementation: ``artifact:PATH:MODULE:FUNCTION``.

A team downloads its function's deployment package (``aws lambda get-function --query Code.Location``: a zip with
``index.py`` and the ``shared/`` layer package) and names it as the baseline; the harness then runs *that* code in the
same simulated worlds as ``legacy`` and ``refactored``. Between the artifact and ``legacy`` no approval applies
(:func:`harness.engine.implementations.approvals_apply`): any difference is a place where the recreation is not
faithful.

Production code reads its environment and builds boto3 resources when it is imported, and imports its layer as
``shared`` (sometimes inside functions). So an artifact is never imported once for the process: every call of its
handler imports it afresh inside the active world (after the world has set the environment and started moto), from
the artifact's own directory and with its own ``shared`` package, and every module it loaded from the artifact is
removed from ``sys.modules`` afterwards. Modules of the same names loaded before (another ``shared``, say) are set
aside while it runs and put back; ``sys.path`` is restored and no bytecode is written into the artifact.

``PATH`` is a directory or a ``.zip``; the name is split from the right, so ``PATH`` may contain ``:``. A zip is
extracted once per process into a temporary directory, removed when the process that extracted it exits. Extraction
rather than ``zipimport``: a deployment package may carry compiled extensions and files its code reads next to its
modules, which ``zipimport`` cannot serve, and Lambda runs a package extracted.

The artifact runs on the harness's boto3 and botocore, the ones the simulated world instruments, as a Lambda runs on
its runtime's (:data:`RUNTIME_MODULES`): copies vendored into the package are not imported.

:func:`resolve_artifact` checks everything it can before a world runs, each problem an :class:`ArtifactError` (the
commands exit 2): the name, the path, the archive, syntax errors and imports of modules that are neither in the
artifact nor installed in the artifact's own code (at module level or inside functions; distributions vendored into
the package are not inspected), then a trial import in an empty world, which must yield a function callable without
arguments.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib
import importlib.machinery
import importlib.util
import inspect
import multiprocessing.util
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

PREFIX = "artifact:"
#: What the Python Lambda runtime provides; the harness's own copies are used (the world instruments them).
RUNTIME_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})
#: Lambda's limit for a function's unzipped code: a bigger archive is not a deployment package.
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
SYNTAX = "'artifact:PATH:MODULE:FUNCTION' (PATH a directory or a .zip)"
#: Exception names whose ``except`` makes the imports of its ``try`` optional.
_IMPORT_GUARDS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_INSTALL_HINT = (
    "install what it needs into the harness's environment (.venv/bin/pip install NAME) or vendor it into the package"
)

#: (zip path, mtime, size) -> its extraction directory, in this process.
_extracted: dict[tuple[str, int, int], Path] = {}


class ArtifactError(ValueError):
    """An artifact that cannot run here; the message names the artifact, the file and line, and the reason."""


class ArtifactImportError(ImportError):
    """While it ran, the artifact imported a module that is neither in it nor installed: the harness lacks it."""


@dataclass(frozen=True)
class ArtifactName:
    """The parts of ``artifact:PATH:MODULE:FUNCTION``."""

    path: Path
    module: str
    function: str


def is_artifact(name: str) -> bool:
    """Whether an implementation name names a code artifact."""
    return name.startswith(PREFIX)


def parse(name: str) -> ArtifactName:
    """Split an artifact name from the right (``PATH`` may contain ``:``).

    Raises:
        ArtifactError: A part is missing, or the module or the function is not a Python name.
    """
    rest, _, function = name.removeprefix(PREFIX).rpartition(":")
    path, _, module = rest.rpartition(":")
    if not (path and module and function):
        raise ArtifactError(f"{name!r} is not {SYNTAX}")
    if not all(part.isidentifier() for part in module.split(".")):
        raise ArtifactError(f"{name!r}: {module!r} is not a module name ({SYNTAX})")
    if not function.isidentifier():
        raise ArtifactError(f"{name!r}: {function!r} is not a function name ({SYNTAX})")
    return ArtifactName(Path(path), module, function)


# -- where the code is -----------------------------------------------------------------------------------------------


def _remove(directory: Path, owner: int) -> None:
    """Delete an extraction directory, but only in the process that made it (forked workers inherit finalizers)."""
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def extract(archive: Path) -> Path:
    """The directory a zip is extracted into, once per process; removed when this process exits.

    Raises:
        ArtifactError: Not a readable zip archive, or bigger unzipped than Lambda allows a function.
    """
    stat = archive.stat()
    key = (str(archive.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _extracted:
        return _extracted[key]
    target = Path(tempfile.mkdtemp(prefix="harness-artifact-"))
    multiprocessing.util.Finalize(None, _remove, args=(target, os.getpid()), exitpriority=0)
    try:
        with zipfile.ZipFile(archive) as package:
            unzipped = sum(info.file_size for info in package.infolist())
            if unzipped > MAX_UNZIPPED_BYTES:
                raise ArtifactError(
                    f"{archive}: {unzipped} bytes unzipped, more than the {MAX_UNZIPPED_BYTES} Lambda allows a function"
                )
            package.extractall(target)
    except (zipfile.BadZipFile, OSError) as error:
        _remove(target, os.getpid())
        raise ArtifactError(f"{archive}: not a readable zip archive ({error})") from error
    except ArtifactError:
        _remove(target, os.getpid())
        raise
    _extracted[key] = target
    return target


def code_root(path: Path) -> Path:
    """The directory the artifact's modules are imported from: the directory itself, or the extracted zip.

    Raises:
        ArtifactError: The path does not exist, or is neither a directory nor a zip archive.
    """
    if path.is_dir():
        return path.resolve()
    if not path.exists():
        raise ArtifactError(f"artifact path {str(path)!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise ArtifactError(f"artifact path {str(path)!r} is neither a directory nor a .zip archive")
    return extract(path)


def top_level_names(root: Path) -> frozenset[str]:
    """The module and package names the artifact provides, except the runtime's (boto3...)."""
    suffixes = tuple(importlib.machinery.all_suffixes())
    names = set()
    for entry in root.iterdir():
        name = entry.name.split(".", 1)[0]
        if name.isidentifier() and not name.startswith("__") and (entry.is_dir() or entry.name.endswith(suffixes)):
            names.add(name)
    return frozenset(names - RUNTIME_MODULES)


def in_artifact(dotted: str, root: Path) -> bool:
    """Whether the artifact holds module ``dotted``: each package level a directory, ending at a module or package."""
    suffixes = importlib.machinery.all_suffixes()
    location = root
    for part in dotted.split("."):
        if (location / part).is_dir():
            location = location / part
        elif any((location / f"{part}{suffix}").is_file() for suffix in suffixes):
            return True
        else:
            return False
    return True


def installed(top: str) -> bool:
    """Whether a top-level module can be imported from the harness's environment."""
    if top in sys.builtin_module_names or top in sys.modules:
        return True
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


# -- importing it afresh ---------------------------------------------------------------------------------------------


def _loaded_from(module: ModuleType, root: Path) -> bool:
    location = getattr(module, "__file__", None)
    return bool(location) and Path(location).resolve().is_relative_to(root)


@contextlib.contextmanager
def fresh_import(root: Path, names: frozenset[str]) -> Iterator[Callable[[str], ModuleType]]:
    """Import from the artifact with nothing cached, and forget it all afterwards.

    Modules named like the artifact's top-level modules (a previous world's ``index``, another ``shared``) are set
    aside for the block and put back after it; everything loaded from the artifact in the block is removed; ``sys.path``
    is restored and no bytecode is written.

    Yields:
        ``importlib.import_module``, to import the artifact's modules with.
    """
    set_aside = {key: sys.modules.pop(key) for key in list(sys.modules) if key.partition(".")[0] in names}
    before = set(sys.modules)
    saved_path, saved_bytecode = list(sys.path), sys.dont_write_bytecode
    sys.path.insert(0, str(root))
    sys.dont_write_bytecode = True
    importlib.invalidate_caches()
    try:
        yield importlib.import_module
    finally:
        for key in set(sys.modules) - before:
            if key.partition(".")[0] in names or _loaded_from(sys.modules[key], root):
                del sys.modules[key]
        sys.modules.update(set_aside)
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        importlib.invalidate_caches()


@dataclass(frozen=True)
class ArtifactHandler:
    """The zero-argument handler of an artifact: imports it afresh in the active world and calls its function.

    Each call imports the artifact afresh, unless it is made inside :meth:`warm`: the invocations of a warm Lambda in
    one world (``invocations: N``) then share one import, so the artifact's module caches survive between them as
    they do in a reused Lambda container.

    Attributes:
        name: The artifact name it was resolved from.
        root: Where its modules are imported from.
        module: The module holding the function.
        function: The function called.
        names: The top-level names the artifact provides (set aside while it runs).
    """

    name: str
    root: Path
    module: str
    function: str
    names: frozenset[str]
    _warm_loads: list[Callable[[str], ModuleType]] = field(default_factory=list, compare=False, repr=False)

    @contextlib.contextmanager
    def warm(self) -> Iterator[None]:
        """Import the artifact afresh once for every call made in the block, and forget it all afterwards."""
        with fresh_import(self.root, self.names) as load:
            self._warm_loads.append(load)
            try:
                yield
            finally:
                self._warm_loads.pop()

    def __call__(self) -> Any:
        """Run the artifact's function, imported afresh (or as :meth:`warm` imported it), then forget its modules.

        Raises:
            ArtifactImportError: It imported a module neither in it nor installed (a harness problem, not behaviour).
            Exception: Whatever the artifact's function raises.
        """
        if self._warm_loads:
            return self._run(self._warm_loads[-1])
        with fresh_import(self.root, self.names) as load:
            return self._run(load)

    def _run(self, load: Callable[[str], ModuleType]) -> Any:
        try:
            return getattr(load(self.module), self.function)()
        except ModuleNotFoundError as error:
            missing = (error.name or "").partition(".")[0]
            if missing and missing not in self.names and not installed(missing):
                raise ArtifactImportError(
                    f"{self.name} needs module {error.name!r}, which is neither in the artifact nor installed; "
                    + _INSTALL_HINT
                ) from error
            raise


# -- checks before anything runs -------------------------------------------------------------------------------------


def vendored_names(root: Path) -> frozenset[str]:
    """Top-level names of the distributions installed into the package (``pip install -t``): not its own code."""
    names: set[str] = set()
    for info in [*root.glob("*.dist-info"), *root.glob("*.egg-info")]:
        top_level, record = info / "top_level.txt", info / "RECORD"
        if top_level.is_file():
            names.update(line.strip() for line in top_level.read_text(encoding="utf-8").splitlines())
        elif record.is_file():
            lines = record.read_text(encoding="utf-8").splitlines()
            names.update(line.split(",", 1)[0].split("/", 1)[0].split(".", 1)[0] for line in lines)
    return frozenset(name for name in names if name.isidentifier())


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(ast.unparse(kind).rpartition(".")[2] in _IMPORT_GUARDS for kind in caught)


class _Imports(ast.NodeVisitor):
    """The imports of one file that must succeed: ``(dotted module, line)``, relative ones made absolute.

    Imports inside a ``try`` whose handlers catch ``ImportError`` (or anything broader) are optional, and so are
    those under ``if TYPE_CHECKING``.
    """

    def __init__(self, package: tuple[str, ...]) -> None:
        self.package = package
        self.found: list[tuple[str, int]] = []
        self.problems: list[tuple[int, str]] = []

    def visit_Try(self, node: ast.Try) -> None:  # noqa: N802 - ast.NodeVisitor's naming
        if not any(_catches_import_errors(handler) for handler in node.handlers):
            for statement in node.body:
                self.visit(statement)
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try  # noqa: N815 - ast.NodeVisitor's naming

    def visit_If(self, node: ast.If) -> None:  # noqa: N802 - ast.NodeVisitor's naming
        if "TYPE_CHECKING" not in ast.unparse(node.test):
            for statement in node.body:
                self.visit(statement)
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802 - ast.NodeVisitor's naming
        self.found += [(alias.name, node.lineno) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802 - ast.NodeVisitor's naming
        if not node.level:
            self.found.append((node.module or "", node.lineno))
        elif node.level - 1 > len(self.package):
            self.problems.append((node.lineno, "relative import beyond the artifact's top level"))
        else:
            base = self.package[: len(self.package) - (node.level - 1)]
            dotted = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if dotted:
                self.found.append((dotted, node.lineno))


def _own_files(root: Path, names: frozenset[str]) -> Iterator[Path]:
    own = names - vendored_names(root)
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "__pycache__" not in relative.parts and relative.parts[0].split(".", 1)[0] in own:
            yield path


def import_problems(root: Path, names: frozenset[str]) -> list[str]:
    """Syntax errors, and imports of unavailable modules, in the artifact's own code.

    Returns:
        One ``file:line: reason`` per problem, paths relative to the artifact.
    """
    problems = []
    for path in _own_files(root, names):
        relative = path.relative_to(root)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(relative))
        except SyntaxError as error:
            problems.append(f"{relative}:{error.lineno}: syntax error: {error.msg}")
            continue
        visitor = _Imports(relative.with_suffix("").parts[:-1])
        visitor.visit(tree)
        problems += [f"{relative}:{line}: {reason}" for line, reason in visitor.problems]
        for dotted, line in visitor.found:
            top = dotted.partition(".")[0]
            if top in names and not in_artifact(dotted, root):
                problems.append(f"{relative}:{line}: imports {dotted!r}, which the artifact does not contain")
            elif top not in names and not installed(top):
                problems.append(f"{relative}:{line}: imports {top!r}, which is neither in the artifact nor installed")
    return problems


def _check_function(handler: ArtifactHandler, module: ModuleType) -> None:
    function = getattr(module, handler.function, None)
    if function is None:
        raise ArtifactError(f"{handler.name}: module {handler.module!r} has no function {handler.function!r}")
    if not callable(function):
        raise ArtifactError(f"{handler.name}: {handler.module}.{handler.function} is not callable")
    try:
        inspect.signature(function).bind()
    except TypeError as error:
        raise ArtifactError(
            f"{handler.name}: {handler.function} cannot be called without arguments ({error}); the harness calls the "
            "sync handler itself, as the query handler does"
        ) from error
    except ValueError:
        return  # no signature to inspect (a builtin): the call will tell


def trial_import(handler: ArtifactHandler) -> None:
    """Import the artifact once in an empty world: its module-level code must run and yield the function.

    Raises:
        ArtifactError: The import failed (a missing module, a syntax error, module-level code raising), or the
            function is missing, not callable or needs arguments.
    """
    from harness.scenario import scenario_from_dict
    from harness.world import World

    world = World(scenario_from_dict({"name": "artifact-import-check"}))
    with world, fresh_import(handler.root, handler.names) as load:
        try:
            module = load(handler.module)
        except ModuleNotFoundError as error:
            raise ArtifactError(
                f"{handler.name}: importing {handler.module!r} needs module {error.name!r}, which is neither in the "
                f"artifact nor installed; {_INSTALL_HINT}"
            ) from error
        except SyntaxError as error:
            raise ArtifactError(f"{handler.name}: {error.filename}:{error.lineno}: {error.msg}") from error
        except Exception as error:
            raise ArtifactError(
                f"{handler.name}: importing {handler.module!r} raised {type(error).__name__}: {error}"
            ) from error
        _check_function(handler, module)


def resolve_artifact(name: str) -> ArtifactHandler:
    """Check an artifact name thoroughly (see the module docstring) and return its handler.

    Raises:
        ArtifactError: Anything that would keep the artifact from running here.
    """
    handler = static_handler(name)
    trial_import(handler)
    return handler


def static_handler(name: str) -> ArtifactHandler:
    """The checks that run none of the artifact's code (all but the trial import), and the handler.

    The commands make these here and the trial import in a sandboxed child process
    (:func:`harness.engine.implementations.check_in_child`), so that no artifact code runs in the harness's process.

    Raises:
        ArtifactError: The name, the path, the archive, a syntax error or an unavailable import.
    """
    parts = parse(name)
    root = code_root(parts.path)
    names = top_level_names(root)
    if parts.module.partition(".")[0] not in names or not in_artifact(parts.module, root):
        raise ArtifactError(f"{name}: the artifact holds no module {parts.module!r} (looked in {parts.path})")
    problems = import_problems(root, names)
    if problems:
        listed = "\n  ".join(problems)
        raise ArtifactError(f"{name}: the artifact cannot run here:\n  {listed}\n{_INSTALL_HINT}")
    return ArtifactHandler(name, root, parts.module, parts.function, names)


def digest(name: str) -> dict[str, Any]:
    """What the reports record of an artifact: its path and a SHA-256 of the zip, or of the directory's files.

    Returns:
        ``{"path", "sha256", "files"}``; ``sha256`` is ``None`` when the path cannot be read.
    """
    path = parse(name).path
    sha = hashlib.sha256()
    if not path.exists():
        return {"path": str(path), "sha256": None, "files": 0}
    try:
        if path.is_file():
            sha.update(path.read_bytes())
            files = 1
        else:
            entries = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            for entry in entries:
                sha.update(f"{entry.relative_to(path).as_posix()}\0".encode() + entry.read_bytes() + b"\n")
            files = len(entries)
    except OSError:
        return {"path": str(path), "sha256": None, "files": 0}
    return {"path": str(path), "sha256": sha.hexdigest(), "files": files}
