"""Every model of every feature, so that Alembic and tests see the whole schema."""

from avis.accounts.models import (
    Account,
    AccountMessage,
    AccountSession,
    AccountToken,
    RecoveryCode,
    Role,
)
from avis.audit.models import AuditEvent
from avis.bodies import models as _body_models  # noqa: F401  (its tables in the metadata)
from avis.catalog.imports.models import ImportRun, ImportStatus
from avis.catalog.models.courses import Action, Course
from avis.catalog.models.sessions import Session
from avis.catalog.models.trainees import Enrolment, Trainee
from avis.catalog.models.training_bodies import TrainingBody
from avis.db import Base
from avis.mail.models import MessageStatus, OutboxMessage, ProviderEvent, Suppression
from avis.moderation.models import Decision, ModerationEvent, Report
from avis.monitoring.models.alerts import Alert, DigestOptOut
from avis.monitoring.models.funnel import (
    FunnelBodyCount,
    FunnelCount,
    FunnelCourseCount,
    FunnelMonthCount,
    FunnelRun,
)
from avis.privacy.models import ErasedAddress, ErasureReason
from avis.public.models import SearchTerm
from avis.scheduler.models import JobRun
from avis.scores.models import Score, ScorePart, ScorePrior, ScoreRun, ScoreScope
from avis.surveys.models.answers import (
    Answer,
    AnswerReceipt,
    CommentStatus,
    FollowUpAnswer,
    Reply,
)
from avis.surveys.models.invitations import (
    Invitation,
    InvitationKind,
    InvitationStatus,
    InvitationToken,
)

__all__ = [
    "Account",
    "AccountMessage",
    "AccountSession",
    "AccountToken",
    "Action",
    "Alert",
    "Answer",
    "AnswerReceipt",
    "AuditEvent",
    "Base",
    "CommentStatus",
    "Course",
    "Decision",
    "DigestOptOut",
    "Enrolment",
    "ErasedAddress",
    "ErasureReason",
    "FollowUpAnswer",
    "FunnelBodyCount",
    "FunnelCount",
    "FunnelCourseCount",
    "FunnelMonthCount",
    "FunnelRun",
    "ImportRun",
    "ImportStatus",
    "Invitation",
    "InvitationKind",
    "InvitationStatus",
    "InvitationToken",
    "JobRun",
    "MessageStatus",
    "ModerationEvent",
    "OutboxMessage",
    "ProviderEvent",
    "RecoveryCode",
    "Reply",
    "Report",
    "Role",
    "Score",
    "ScorePart",
    "ScorePrior",
    "ScoreRun",
    "ScoreScope",
    "SearchTerm",
    "Session",
    "Suppression",
    "Trainee",
    "TrainingBody",
]
