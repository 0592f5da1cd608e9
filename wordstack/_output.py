"""The stdout side of a command: the shared ``--json`` option and JSON output."""
from __future__ import annotations

import json
from typing import Any, Callable

import click


def json_option(f: Callable) -> Callable:
    """``--json``: machine-readable output on stdout."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
