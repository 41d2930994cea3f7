"""``timebank ledger verify|sync|balance`` (LG6)."""
import sys

import click
from flask.cli import with_appcontext


def register_cli(cli):
    @cli.group("ledger", help="Time bank points ledger: integrity check, catch-up, balances.")
    def ledger():
        pass

    @ledger.command("verify", help="Check every balance, transfer and hours credit; exit 1 on any problem.")
    @with_appcontext
    def verify_cmd():
        from .services import verify
        problems = verify()
        if not problems:
            click.echo("ledger OK")
            return
        click.echo(f"{len(problems)} problem(s):", err=True)
        for p in problems:
            click.echo(f"  {p.check:22} {p.ref:28} {p.detail}", err=True)
        sys.exit(1)

    @ledger.command("sync", help="Credit confirmed service records the ledger has not taken in yet.")
    @with_appcontext
    def sync_cmd():
        from .services import sync_hours
        r = sync_hours()
        click.echo(f"records checked: {r['records']}, credited: {r['credited']}, points released: {r['released']}")

    @ledger.command("balance", help="Show an account's balance, e.g. volunteer:12 or system:issuance.")
    @click.argument("code")
    @with_appcontext
    def balance_cmd(code):
        from .models import Account
        a = Account.get_or_none(Account.code == code)
        if a is None:
            click.echo(f"no account {code}", err=True)
            sys.exit(2)
        click.echo(f"{a.code}\t{a.balance}")
