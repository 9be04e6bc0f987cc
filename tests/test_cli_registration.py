"""`shoebox CMD` registers only CMD's module; the map it uses must say where each command really lives."""

from __future__ import annotations

import importlib

import typer

from shoebox.cli import main


def _registered(module: str) -> set[str]:
    app = typer.Typer()
    importlib.import_module(module).register(app)
    names = {info.name or info.callback.__name__.replace("_", "-") for info in app.registered_commands}
    return names | {info.name for info in app.registered_groups}


def test_every_command_in_the_map_is_registered_by_the_module_it_names():
    for command, module in main.COMMAND_HOMES.items():
        assert module in main.COMMAND_MODULES
        assert command in _registered(module), (command, module)


def test_a_command_line_registers_its_own_module_only_and_anything_unclear_registers_all():
    assert main.modules_for(["search", "dogs", "--json"]) == ("shoebox.cli.search_cmds",)
    assert main.modules_for(["--profile", "p", "--region=eu-west-1", "people", "name"]) == ("shoebox.cli.people",)
    assert main.modules_for(["show", "originals/a.jpg"]) == ()
    for argv in ([], ["--help"], ["serch"], ["--region"]):
        assert main.modules_for(argv) == main.COMMAND_MODULES
    assert main.modules_for(None) == main.COMMAND_MODULES  # imported, not run as `shoebox`


def test_the_app_imported_by_tests_has_every_command():
    names = {info.name or info.callback.__name__.replace("_", "-") for info in main.app.registered_commands}
    names |= {info.name for info in main.app.registered_groups}
    assert set(main.COMMAND_HOMES) | set(main.OWN_COMMANDS) == names  # a new command goes in the map too
