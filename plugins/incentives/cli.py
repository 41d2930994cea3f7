"""``timebank incentives …``: recompute star ratings, make evaluations, send today's greetings."""
import click


def register_cli(cli):
    @cli.group("incentives")
    def group():
        """Incentives and retention (stars, evaluations, greetings)."""

    @group.command("recompute")
    @click.option("--quiet-messages", is_flag=True, help="Do not send promotion messages.")
    def recompute(quiet_messages):
        """Recompute every volunteer's star rating in set-based SQL (R-INC-1)."""
        from .stars import recompute_all
        out = recompute_all(notify=not quiet_messages)
        click.echo(f"changed {out['changed']}, promoted {out['promoted']}")

    @group.command("evaluate")
    @click.option("--from", "start", required=True, help="YYYY-MM-DD")
    @click.option("--to", "end", required=True, help="YYYY-MM-DD")
    def evaluate(start, end):
        """Make (draft) evaluations of every active volunteer for a period (R-INC-6)."""
        from core import inputs
        from .evaluation import evaluate_all
        a, b = inputs.parse_date(start, field="from"), inputs.parse_date(end, field="to")
        click.echo(f"evaluated {evaluate_all(a, b)}")

    @group.command("greet")
    @click.option("--day", default="", help="YYYY-MM-DD (default today)")
    def greet(day):
        """Send the greetings due on a day (safe to repeat: once per person and occasion)."""
        from core import inputs
        from .greetings import run
        sent = run(inputs.parse_date(day) if day else None)
        click.echo(", ".join(f"{k}: {v}" for k, v in sent.items()) or "nothing to send")
