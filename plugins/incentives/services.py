"""Public API of the incentives plugin for other plugins (docs/plugins.md, Public API). The business steps
live in stars.py, evaluation.py, greetings.py and insurance.py; this module names what others may call."""
from .evaluation import GRADES, evaluate, evaluate_all, publish, published_of  # noqa: F401
from .greetings import OCCASIONS, occasions_on, record_contact  # noqa: F401
from .greetings import run as send_greetings  # noqa: F401
from .insurance import KINDS as INSURANCE_KINDS, insured_list, record_check  # noqa: F401
from .insurance import required as required_insurance  # noqa: F401
from .stars import history as star_history, of as stars_of, of_many as stars_of_many  # noqa: F401
from .stars import recompute as recompute_stars, recompute_all as recompute_all_stars  # noqa: F401
from .commendations import awards_of, honour_roll, nominate, party_annual_candidates  # noqa: F401
from .indicators import collect as collect_indicators, scope_team_ids as indicator_scope  # noqa: F401
