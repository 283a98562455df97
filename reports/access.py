"""Who may do what with tips. Pages use these role sets with role_required, the API with roles_permission."""

from collections.abc import Callable

from django.db.models import Q

from campaign.roles import Role

# The register and tip pages: office and police work on tips, leaders read, unit roles see their unit's.
REGISTER_ROLES = (Role.OFFICE, Role.POLICE, Role.LEADER, Role.LIAISON, Role.UNIT_HEAD)
ALL_TIPS_ROLES = frozenset({Role.OFFICE, Role.POLICE, Role.LEADER})
UNIT_SCOPED_ROLES = frozenset({Role.LIAISON, Role.UNIT_HEAD})
ENTRY_ROLES = (Role.OFFICE, Role.POLICE)
MESSAGE_ROLES = (Role.OFFICE, Role.POLICE)
REWARD_ROLES = (Role.OFFICE, Role.LEADER)
PUBLICITY_ROLES = (Role.OFFICE, Role.POLICE, Role.LIAISON, Role.UNIT_HEAD, Role.LEADER)
CASE_ROLES = (Role.OFFICE,)
REVEAL_PERMISSION = "reports.reveal_identity"


def can_reveal_identity(user) -> bool:
    """Office staff holding the reveal permission; nobody else, whatever else they hold."""
    return bool(
        user
        and user.is_authenticated
        and user.role == Role.OFFICE
        and user.is_active
        and user.has_perm(REVEAL_PERMISSION)
    )


def can_message(user) -> bool:
    return bool(user and user.is_authenticated and user.role in MESSAGE_ROLES)


def can_decide_reward(user) -> bool:
    """Leaders, and office leaders (办领导), approve or reject a proposed reward."""
    return bool(
        user
        and user.is_authenticated
        and (user.role == Role.LEADER or (user.role == Role.OFFICE and user.is_office_leader))
    )


def can_record_publicity_for(user, unit) -> bool:
    if user.role == Role.OFFICE:
        return True
    if user.role in (Role.POLICE, Role.LIAISON, Role.UNIT_HEAD):
        return user.unit_id is not None and unit is not None and unit.pk == user.unit_id
    return False


# --- tips behind a restricted lead (限制知悉范围, issue 11) ----------------------------------------------
# Who is in a restricted lead's circle is the leads app's knowledge (creator, current and past handlers,
# office leaders, discipline inspection). Reports cannot import leads, so leads registers, in its
# AppConfig.ready(), a rule: user -> None (sees every restricted tip) or a Q over Tip selecting the
# restricted tips the user may see. With no rule registered only office leaders see them (fail closed).
RestrictedRule = Callable[[object], "Q | None"]
_restricted_rule: list[RestrictedRule] = []


def restricted_rule_register(rule: RestrictedRule) -> None:
    """Install the rule (one at a time: registering again replaces it, so reloading is harmless)."""
    _restricted_rule[:] = [rule]


def restricted_tips_visible(user) -> Q | None:
    """None when `user` sees every restricted tip; otherwise a Q for the restricted tips they may see."""
    if user.role == Role.OFFICE and user.is_office_leader:
        return None
    if not _restricted_rule:
        return Q(pk__in=[])
    return _restricted_rule[0](user)
