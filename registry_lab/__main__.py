"""The command line: ``python -m registry_lab up|down|status|reset|doctor|delete|gc|figures``.

A thin shell over `registry_lab.Lab`: each command is a few lines around one call.
Errors are printed in French with a hint, never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from .errors import RegistryLabError
from .lab import Lab

__all__ = ["main"]

#: argparse's own messages, in French (argparse looks ``_`` up each time it speaks).
_ARGPARSE_FR = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (au choix : %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "expected one argument": "une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
}


@contextlib.contextmanager
def _french_argparse() -> Iterator[None]:
    """argparse speaks French while the CLI parses (and only then)."""
    english = argparse._  # type: ignore[attr-defined]
    argparse._ = lambda text: _ARGPARSE_FR.get(text, text)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = english  # type: ignore[attr-defined]


class _FrenchParser(argparse.ArgumentParser):
    """An argument parser whose errors read like the lab's: « Erreur : » and « Piste : »."""

    def error(self, message: str) -> NoReturn:
        print(f"Erreur : {message}", file=sys.stderr)
        print(f"Piste : {self.prog} --help montre les commandes et leurs options.", file=sys.stderr)
        sys.exit(2)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"port invalide : {text!r} (un entier de 1 à 65535)")
    return int(text)


def _up(lab: Lab, args: argparse.Namespace) -> int:
    started = time.monotonic()
    lab.start()
    print(lab.status())
    print(f"\nLabo prêt en {time.monotonic() - started:.1f} s.")
    return 0


def _down(lab: Lab, args: argparse.Namespace) -> int:
    lab.down()
    print("Labo arrêté : hôte A, hôte B et registry. Les données du registry sont conservées.")
    return 0


def _status(lab: Lab, args: argparse.Namespace) -> int:
    status = lab.status()
    print(status)
    return 0 if status.running else 3


def _reset(lab: Lab, args: argparse.Namespace) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "reset efface toutes les données du labo : relancez avec --yes pour confirmer.",
                file=sys.stderr,
            )
            return 2
        answer = input(f"Effacer tout le labo ({lab.home}) : images, registry, journaux ? [o/N] ")
        if answer.strip().lower() not in ("o", "oui", "y", "yes"):
            print("Rien n'a été effacé.")
            return 1
    lab.reset()
    print(f"Labo remis à zéro : {lab.home} est effacé. « up » le recrée.")
    return 0


def _doctor(lab: Lab, args: argparse.Namespace) -> int:
    report = lab.doctor()
    print(report)
    return 0 if report.ok else 1


def _figures(lab: Lab, args: argparse.Namespace) -> int:
    from .graph import write_figures

    for path in write_figures(Path(args.output)):
        print(f"écrit : {path}")
    return 0


def _delete(lab: Lab, args: argparse.Namespace) -> int:
    from .maintenance import delete_digest, delete_tag

    repository, sep, reference = args.image.rpartition("@" if "@" in args.image else ":")
    if not sep or not repository:
        print("Erreur : nommez l'image dépôt:tag ou dépôt@sha256:…", file=sys.stderr)
        return 2
    lab.registry.require()
    client = lab.registry.client
    is_digest = sep == "@"
    result = (delete_digest if is_digest else delete_tag)(client, repository, reference)
    print(result)
    return 0


def _gc(lab: Lab, args: argparse.Namespace) -> int:
    from .maintenance import garbage_collect

    print(garbage_collect(lab.registry, dry_run=args.dry_run, delete_untagged=args.untagged))
    return 0


def _lab_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--home",
        metavar="DOSSIER",
        default=default,
        help="dossier d'état du labo (défaut : $REGISTRY_LAB_HOME, sinon "
        "~/.local/state/registry-lab)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=default,
        help="port du registry sur 127.0.0.1 (défaut : $REGISTRY_LAB_PORT, sinon 5000)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser; ``--home`` and ``--port`` go before or after the command."""
    parser = _FrenchParser(
        prog="python -m registry_lab",
        description="Le labo registry_lab : deux hôtes Docker et un registry, en local.",
    )
    _lab_options(parser, None)
    shared = _FrenchParser(add_help=False)
    _lab_options(shared, argparse.SUPPRESS)
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="commande", parser_class=_FrenchParser
    )

    def command(name: str, help: str, run: object) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, parents=[shared])
        sub.set_defaults(run=run)
        return sub

    command("up", "démarre le labo (rapide s'il tourne déjà)", _up)
    command("down", "arrête le labo (les données restent)", _down)
    command("status", "état de chaque composant", _status)
    reset = command("reset", "arrête le labo et efface toutes ses données", _reset)
    reset.add_argument("--yes", "-y", action="store_true", help="ne pas demander de confirmation")
    command("doctor", "vérifie les prérequis", _doctor)
    delete = command("delete", "supprime un manifeste du registry (par tag ou empreinte)", _delete)
    delete.add_argument("image", help="dépôt:tag ou dépôt@sha256:… (tous ses tags partent)")
    gc = command("gc", "ramasse-miettes : arrête le registry, libère les blobs, le relance", _gc)
    gc.add_argument("--dry-run", action="store_true", help="à blanc : liste sans rien effacer")
    gc.add_argument(
        "--delete-untagged",
        dest="untagged",
        action="store_true",
        help="supprime aussi les manifestes qu'aucun tag ne désigne",
    )
    figures = command("figures", "régénère les figures du cours (imgs/)", _figures)
    figures.add_argument("--output", default="imgs", help="dossier de sortie (défaut : imgs)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (2 for a lab error, printed in French)."""
    with _french_argparse():
        args = build_parser().parse_args(argv)
    try:
        lab = Lab(args.home, args.port)
        code: int = args.run(lab, args)
    except RegistryLabError as exc:
        print(f"Erreur : {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"Piste : {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrompu.", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("REGISTRY_LAB_DEBUG"):
            raise
        print(f"Erreur inattendue : {type(exc).__name__} : {exc}", file=sys.stderr)
        print(
            "Piste : « python -m registry_lab doctor » vérifie les prérequis ; relancez avec "
            "REGISTRY_LAB_DEBUG=1 pour la trace complète.",
            file=sys.stderr,
        )
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
