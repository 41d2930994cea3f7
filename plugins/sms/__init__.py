"""SMS gateway (短信通知): hook implementations only; the channel lives in channel.py."""
from core import hookimpl


@hookimpl
def register_message_channels(app):
    from .channel import SmsChannel
    return [SmsChannel()]


@hookimpl
def app_started(app):
    # declare this plugin's own hook (sms_phone_for) on the site's plugin manager; plugins that know
    # phone numbers implement it with @hookimpl(optionalhook=True)
    from . import hookspecs
    pm = app.extensions["timebank"].pm
    caller = getattr(pm.hook, "sms_phone_for", None)
    if caller is None or caller.spec is None:
        pm.add_hookspecs(hookspecs)
