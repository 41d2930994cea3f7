"""The activities plugin's answers to the privacy plugin's contract (issue 13 point 1): a volunteer's
sign-ups and check-ins, confirmed service records, feedback, and the photos they uploaded; an activity's
contact person."""
from flask_babel import lazy_gettext as _l

from .models import Activity, Feedback, Photo, PhotoRecipient, ServiceRecord, SignUp


def declarations():
    from plugins.privacy.contract import Declaration
    return [
        Declaration(SignUp, {"volunteer": "personal", "reason": "personal", "time_note": "personal",
                             "check_in_at": "personal", "check_out_at": "personal"}, "volunteer",
                    _l("Sign-ups, check-in and check-out of volunteers (R-ACT)"), _l("Contract (PIPL 13(2))"),
                    _l("While the volunteer record exists; notes removed on erasure"),
                    _l("The organising team's admins")),
        Declaration(ServiceRecord, {"volunteer": "personal", "change_reason": "personal"}, "volunteer",
                    _l("Confirmed service hours (R-NAT-1, R-NAT-2)"),
                    _l("Contract; the hours back points and certificates (R-NAT-6)"),
                    _l("Kept: the hours stay with the volunteer number, without the name"),
                    _l("The organising team's admins; the volunteer")),
        Declaration(Feedback, {"volunteer": "personal", "comments": "personal"}, "volunteer",
                    _l("Feedback on an activity (附录四)"), _l("Consent (PIPL 13(1))"),
                    _l("Unlinked from the volunteer and comments removed on erasure"),
                    _l("The organising team's admins")),
        Declaration(Photo, {"uploaded_by": "personal", "caption": "personal"}, "user",
                    _l("Photos of activities (R-PRIV-3)"), _l("Consent (PIPL 13(1))"),
                    _l("While the activity is kept"), _l("The organising team's admins; the public when published"),
                    public=True),
        Declaration(PhotoRecipient, {"recipient_id": "personal"}, "recipient",
                    _l("Which service recipients a photo shows, so that faces stay blurred without their "
                       "consent (R-PRIV-3)"), _l("Legal obligation (PIPL 13(3)); consent to publish (PIPL 14)"),
                    _l("While the photo is kept; removed on the recipient's erasure"),
                    _l("The organising team's admins")),
        Declaration(Activity, {"contact_name": "personal", "contact_phone": "personal"}, "contact",
                    _l("Reaching the organiser of an activity"), _l("Contract (PIPL 13(2))"),
                    _l("While the activity is kept"), _l("The public, on the activity page"), public=True),
    ]


def export(subject):
    from plugins.privacy.contract import ExportPart
    parts = []
    if subject.volunteer_id:
        sus = list(SignUp.select(SignUp, Activity).join(Activity, on=(SignUp.activity == Activity.id))
                   .where(SignUp.volunteer == subject.volunteer_id).order_by(SignUp.id))
        parts.append(ExportPart(
            _l("Sign-ups and check-ins"), [_l("Activity"), _l("Status"), _l("Signed up"), _l("Checked in"),
                                          _l("Checked out"), _l("Post")],
            [[s.activity.title, s.status, s.created_at, s.check_in_at, s.check_out_at, s.post] for s in sus],
            [{"activity": s.activity.title, "status": s.status, "created_at": s.created_at,
              "check_in_at": s.check_in_at, "check_out_at": s.check_out_at, "post": s.post,
              "reason": s.reason, "time_note": s.time_note} for s in sus]))
        recs = list(ServiceRecord.select(ServiceRecord, Activity).join(Activity, on=(ServiceRecord.activity == Activity.id))
                    .where(ServiceRecord.volunteer == subject.volunteer_id).order_by(ServiceRecord.id))
        parts.append(ExportPart(
            _l("Service records"), [_l("Activity"), _l("Date"), _l("Minutes"), _l("Kind")],
            [[r.activity.title, r.service_date, r.minutes, r.kind] for r in recs],
            [{"activity": r.activity.title, "service_date": r.service_date, "minutes": r.minutes,
              "kind": r.kind, "confirmed_at": r.confirmed_at} for r in recs]))
        fbs = list(Feedback.select(Feedback, Activity).join(Activity, on=(Feedback.activity == Activity.id))
                   .where(Feedback.volunteer == subject.volunteer_id).order_by(Feedback.id))
        parts.append(ExportPart(
            _l("Feedback given"), [_l("Activity"), _l("Overall"), _l("Comments")],
            [[f.activity.title, f.overall, f.comments] for f in fbs],
            [{"activity": f.activity.title, "items": f.items, "overall": f.overall, "comments": f.comments,
              "created_at": f.created_at} for f in fbs]))
    if subject.user_id:
        from .photos import path_of, public_file
        photos = list(Photo.select(Photo, Activity).join(Activity, on=(Photo.activity == Activity.id))
                      .where(Photo.uploaded_by == subject.user_id).order_by(Photo.id))
        files = []
        for p in photos:
            try:
                # a photo showing service recipients: the copy the public may see, never the original
                # with faces of recipients who did not consent (R-PRIV-3)
                path = public_file(p) if p.shows_recipients else path_of(p)
                if path is not None:
                    files.append((p.stored_name, path.read_bytes()))
            except OSError:
                pass
        parts.append(ExportPart(
            _l("Photos uploaded"), [_l("Activity"), _l("Caption"), _l("Uploaded"), _l("File")],
            [[p.activity.title, p.caption, p.uploaded_at, p.stored_name] for p in photos],
            [{"activity": p.activity.title, "caption": p.caption, "uploaded_at": p.uploaded_at,
              "file": p.stored_name} for p in photos], files=files))
    if subject.recipient_id:   # the photos a service recipient is named on (R-PRIV-3)
        tagged = list(Photo.select(Photo, Activity).join(Activity, on=(Photo.activity == Activity.id))
                      .join(PhotoRecipient, on=(PhotoRecipient.photo == Photo.id))
                      .where(PhotoRecipient.recipient_id == subject.recipient_id).order_by(Photo.id))
        parts.append(ExportPart(
            _l("Photos showing the recipient"), [_l("Activity"), _l("Caption"), _l("Uploaded")],
            [[p.activity.title, p.caption, p.uploaded_at] for p in tagged],
            [{"activity": p.activity.title, "caption": p.caption, "uploaded_at": p.uploaded_at} for p in tagged]))
    return parts or None


def erase(subject, actor):
    import peewee as pw
    from plugins.privacy.contract import ErasePart
    if subject.recipient_id:   # unnamed from photos: they stay marked, so public pages keep the faces blurred
        n = PhotoRecipient.delete().where(PhotoRecipient.recipient_id == subject.recipient_id).execute()
        if not subject.volunteer_id and not subject.user_id:
            return ErasePart(_l("Activities"), removed=[_l("The recipient's name removed from %(n)s photos; "
                                                           "their faces stay blurred on public pages", n=n)])
    if subject.user_id:   # the captions the person wrote
        Photo.update(caption="").where(Photo.uploaded_by == subject.user_id).execute()
    if not subject.volunteer_id:
        return None
    from plugins.volunteers.models import Volunteer
    v = Volunteer.get_or_none(Volunteer.id == subject.volunteer_id)
    if v is not None and v.status != "erased" and len(v.name) >= 2:   # captions naming the volunteer
        Photo.update(caption=pw.fn.REPLACE(Photo.caption, v.name, v.number)).where(
            Photo.caption.contains(v.name)).execute()
    SignUp.update(reason="", time_note="").where(SignUp.volunteer == subject.volunteer_id).execute()
    ServiceRecord.update(change_reason="").where(ServiceRecord.volunteer == subject.volunteer_id).execute()
    Feedback.update(volunteer=None, comments="").where(Feedback.volunteer == subject.volunteer_id).execute()
    return ErasePart(_l("Activities"),
                     removed=[_l("Notes on sign-ups and service records; feedback unlinked and its comments "
                                 "removed; captions the person wrote emptied, and the name replaced by the "
                                 "volunteer number in other captions")],
                     kept=[_l("Sign-ups and confirmed hours under the volunteer number, without the name: "
                              "points and certificates rest on them (R-NAT-6)"),
                           _l("Photos the person uploaded stay with the activity's record")])
