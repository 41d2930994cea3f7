"""SMS gateway (短信通知): hook implementations only; the channel lives in channel.py."""
from core import hookimpl

from . import hookspecs

# the hook this plugin declares (sms_phone_for); the kernel adds it before any plugin registers, so
# implementations in other plugins are checked like the kernel's own hooks
HOOKSPECS = hookspecs


@hookimpl
def register_message_channels(app):
    from .channel import SmsChannel
    return [SmsChannel()]
