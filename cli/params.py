"""Problem flags for free: one command per registered problem, built from its declaration.

``geograd solve``, ``geograd check`` and ``geograd compare`` are groups whose
subcommands are the registered problems (``geograd solve median ...``). Each
subcommand is built on first use, so ``geograd --help`` loads no problem:

* a :class:`Kind` describes a command (``solve``, ...): its help, a *template*
  function whose typer-annotated signature declares the command's own options
  (``--optimizer``, ``--json``, ...) and the function that runs it;
* :func:`problem_parameters` turns each ``Option`` the problem declares into a
  typer option: ``Option("n", int, 1000, ...)`` becomes ``--n N``. The value is
  taken as text and parsed by the problem's own ``Option.parse`` (through the
  problem's constructor), so a plugin's checks and error messages apply
  unchanged. A ``bool`` option becomes ``--name/--no-name``. A problem option
  whose flag clashes with one of the command's own becomes ``--PROBLEM-name``;
* :func:`build_command` joins both lists into one signature (``__signature__``)
  on a generic callback and lets typer make the click command, so ``--help``
  shows the problem's options in their own section.

Help is click's plain text, not rich's (:data:`HELP_SETTINGS`): rich costs ~50 ms
of start-up to draw ``geograd --help``, which is otherwise done in less. Options keep
their sections (``rich_help_panel``: "Problem options", "Solver options", ...,
:meth:`Command.format_options`) and commands their whole first sentence
(:func:`format_commands`), as rich showed them; help text is never read as markup.

Adding a command option (issue 6's ``--plot FILE``) is one more parameter on the
template; every problem gets it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from geograd.errors import GeogradError, InputError

from .errors import Interrupted, one_line

PROBLEM_PANEL = "Problem options"

#: typer.Typer(**HELP_SETTINGS) for every app of the CLI: plain help (no rich), at most
#: 100 columns wide (what report.MAX_WIDTH gives tables), narrower on a narrower terminal.
HELP_SETTINGS: dict[str, Any] = {
    "rich_markup_mode": None,
    "context_settings": {"max_content_width": 100},
}

_METAVARS = {"int": "INT", "float": "FLOAT", "str": "TEXT", "path": "FILE", "bool": ""}


def metavar(opt: Any) -> str:
    """How a problem option's value is shown in help: its own metavar, else by its type."""
    return str(opt.metavar or ("NAME" if opt.choices else _METAVARS.get(opt.type_name, "VALUE")))


@dataclass(frozen=True)
class Kind:
    """A command that takes a problem: ``geograd NAME PROBLEM [OPTIONS]``."""

    name: str
    help: str
    #: The subcommand's help; ``{name}`` and ``{description}`` are filled in.
    command_help: str
    #: A function whose signature declares the command's own options (typer ``Annotated``).
    template: Callable[..., Any]
    #: ``run(problem_name, problem_args, **own_options)``; ``problem_args`` holds the
    #: problem flags that were given, as the user typed them.
    run: Callable[..., None]
    #: ``help_defaults(problem_class)`` -> {parameter name: help text}: help that shows the
    #: problem's own defaults (its optimizer, lr, schedule, steps), computed only when
    #: ``--help`` is asked, since it builds the problem.
    help_defaults: Callable[[Any], dict[str, str]] | None = None


def quick_help(option: Any) -> Any:
    """The help option, with False as its value when absent (instead of None).

    typer converts every parameter value that is not already a bool through a
    pydantic adapter, and importing pydantic for the help flag's missing value
    alone costs ~45 ms on every command (``geograd problems`` included).
    """
    if option is not None and option.default is None:
        option.default = False
    return option


class Command(TyperCommand):
    """A typer command whose help flag does not import pydantic (see :func:`quick_help`),
    and whose help fills in the problem's defaults when it is shown (``help_defaults``)."""

    #: Set by :func:`build_command`: a no-argument function giving {parameter: help text}.
    help_defaults: Callable[[], dict[str, str]] | None = None

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help(super().get_help_option(ctx))

    def invoke(self, ctx: Any) -> Any:
        # typer would turn Ctrl-C into a silent exit 130; ours says "interrupted".
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if self.help_defaults is not None:
            filler, self.help_defaults = self.help_defaults, None
            try:
                texts = filler()
            except Exception:  # a plugin's defaults must never break its --help
                texts = {}
            for param in self.params:
                if param.name in texts and hasattr(param, "help"):  # options, not arguments
                    param.help = texts[param.name]
        super().format_help(ctx, formatter)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Arguments, then options without a panel, then each panel (``rich_help_panel``)
        in the order of its first option: one titled section each."""
        sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            default = "Arguments" if param.param_type_name == "argument" else "Options"
            title = getattr(param, "rich_help_panel", None) or default
            sections.setdefault(title, []).append(record)
        for title, rows in sections.items():
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def format_commands(group: Any, ctx: Any, formatter: Any) -> None:
    """A group's commands, each with the first sentence of its help, whole (click would
    cut it to fit one line; here it wraps)."""
    rows = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is not None and not cmd.hidden:
            rows.append((name, cmd.get_short_help_str(limit=10_000)))
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def problem_parameters(
    problem_name: str, options: Any, reserved: set[str]
) -> tuple[list[inspect.Parameter], dict[str, str]]:
    """Typer parameters for a problem's ``options``, and a map from parameter to option name."""
    params: list[inspect.Parameter] = []
    names: dict[str, str] = {}
    for i, opt in enumerate(options):
        flag = opt.flag
        if flag in reserved or (opt.type is bool and f"--no-{flag[2:]}" in reserved):
            flag = "--" + re.sub(r"[^A-Za-z0-9-]", "-", f"{problem_name}-{opt.name}")
        pyname = f"problem_{i}_" + re.sub(r"\W", "_", opt.name)
        text = f"{opt.help}; {opt.expected()}" if opt.help else opt.expected()
        if opt.type is bool:
            if opt.default is not None:
                text += f"; default {'--' if opt.default else '--no-'}{flag[2:]}"
            info = typer.Option(
                f"{flag}/--no-{flag[2:]}",
                help=text,
                rich_help_panel=PROBLEM_PANEL,
                show_default=False,
            )
            annotation: Any = Annotated[bool | None, info]
        else:
            if opt.default is not None:
                text += f"; default {opt.default}"
            info = typer.Option(
                flag,
                metavar=metavar(opt),
                help=text,
                rich_help_panel=PROBLEM_PANEL,
                show_default=False,
            )
            annotation = Annotated[str | None, info]
        params.append(
            inspect.Parameter(
                pyname, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation
            )
        )
        names[pyname] = opt.name
    return params, names


def _own_parameters(kind: Kind) -> list[inspect.Parameter]:
    sig = inspect.signature(kind.template, eval_str=True)
    return [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in sig.parameters.values()]


def _command(
    name: str,
    params: list[inspect.Parameter],
    callback: Callable[..., Any],
    help: str,
    short_help: str,
) -> Any:
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    app = typer.Typer(add_completion=False, **HELP_SETTINGS)
    app.command(name=name, help=help, short_help=short_help, cls=Command)(callback)
    return typer.main.get_command(app)


def own_flags(kind: Kind) -> set[str]:
    """Every flag of the command's own options (and ``--help``)."""

    def nothing(**kwargs: Any) -> None:
        return None

    cmd = _command("x", _own_parameters(kind), nothing, "", "")
    flags = {"--help", "-h"}
    for p in cmd.params:
        flags.update(getattr(p, "opts", ()))
        flags.update(getattr(p, "secondary_opts", ()))
    return flags


def build_command(kind: Kind, name: str, cls: Any) -> Any:
    """The click command ``geograd KIND NAME`` for the problem class ``cls``."""
    own = _own_parameters(kind)
    problem_params, option_names = problem_parameters(name, cls.options, own_flags(kind))

    def callback(**kwargs: Any) -> None:
        problem_args = {
            option_names[key]: kwargs.pop(key) for key in list(kwargs) if key in option_names
        }
        given = {k: v for k, v in problem_args.items() if v is not None}
        try:
            kind.run(name, given, **kwargs)
        except KeyboardInterrupt:
            raise Interrupted() from None

    description = str(getattr(cls, "description", "") or name)
    help_text = kind.command_help.format(name=name, description=description)
    cmd = _command(name, problem_params + own, callback, help_text, description)
    if kind.help_defaults is not None:
        fill = kind.help_defaults
        cmd.help_defaults = lambda: fill(cls)
    return cmd


def _broken_command(name: str, error: Exception) -> Any:
    """A stand-in for a problem that cannot be loaded: listed in help, failing when run."""
    message = one_line(str(error))

    def callback() -> None:
        raise InputError(message)

    return _command(name, [], callback, message, f"(cannot be loaded: {message})")


class ProblemGroup(TyperGroup):
    """A group whose subcommands are the registered problems (see the module docstring)."""

    kind: ClassVar[Kind]

    def __init__(self, **attrs: Any) -> None:
        attrs["subcommand_metavar"] = "PROBLEM [OPTIONS]..."
        super().__init__(**attrs)
        self._built: dict[str, Any] = {}

    def get_help_option(self, ctx: Any) -> Any:
        return quick_help(super().get_help_option(ctx))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        format_commands(self, ctx, formatter)

    def list_commands(self, ctx: Any) -> list[str]:
        from geograd.problems import available_problems

        return list(available_problems())

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self._built:
            return self._built[cmd_name]
        from geograd.problems import available_problems

        entry = available_problems().get(cmd_name)
        if entry is None:
            return None
        try:
            cmd = build_command(self.kind, cmd_name, entry.load())
        except GeogradError as exc:
            cmd = _broken_command(cmd_name, exc)
        self._built[cmd_name] = cmd
        return cmd

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            help_flags = set(ctx.help_option_names)
            if not args:
                raise InputError(f"{_where(ctx)}: missing PROBLEM; {self._usage(ctx)}")
            if args[0].startswith("-") and args[0] not in help_flags:
                raise InputError(
                    f"{_where(ctx)}: the problem comes first, then its options; {self._usage(ctx)}"
                )
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        from geograd.problems import available_problems, problem_class

        if args:
            entry = available_problems().get(args[0])
            if entry is None:
                problem_class(args[0])  # raises the InputError naming the closest problem
            else:
                entry.load()  # a broken plugin fails here, with its own one-line error
        return super().resolve_command(ctx, args)

    def _usage(self, ctx: Any) -> str:
        from geograd.problems import available_problems

        known = ", ".join(available_problems()) or "none"
        return (
            f"usage: {ctx.command_path} PROBLEM [OPTIONS]; known problems: {known} "
            f"(see '{ctx.command_path} PROBLEM --help')"
        )


def _where(ctx: Any) -> str:
    path: str = ctx.command_path
    return path.partition(" ")[2] or path


def problem_group(kind: Kind) -> type[ProblemGroup]:
    """A :class:`ProblemGroup` subclass bound to ``kind`` (typer instantiates it)."""
    return type(f"{kind.name.title()}ProblemGroup", (ProblemGroup,), {"kind": kind})
