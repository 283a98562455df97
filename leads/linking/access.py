"""Who may do what with linking. Pages use these sets with role_required, the API with roles_permission.

Which related items a user sees is decided by the owners' selectors (reports.selectors.tip_list_visible_to,
leads.selectors.lead_list_visible_to) and, for imported cases, by CASE_ROLES.
"""

from campaign.roles import Role

# The related panel: anyone who may open a tip or lead page; the selectors narrow what they see.
RELATED_ROLES = tuple(Role.values)
# Linking and dismissing suggestions is the office's triage work.
LINK_ROLES = (Role.OFFICE,)
# Imported criminal, public-security and petition cases: office, police intake and leaders read them.
CASE_ROLES = (Role.OFFICE, Role.POLICE, Role.LEADER)
IMPORT_ROLES = (Role.OFFICE, Role.POLICE)
# Entity pages and repeat targets show entities across every tip: roles that see every tip.
ANALYSIS_ROLES = (Role.OFFICE, Role.POLICE, Role.LEADER)
# Key monitoring: the office flags for itself; units flag for their own unit.
WATCH_ROLES = (Role.OFFICE, Role.POLICE, Role.LIAISON, Role.UNIT_HEAD, Role.LEADER)
WATCH_EDIT_ROLES = (Role.OFFICE, Role.POLICE, Role.LIAISON, Role.UNIT_HEAD)
# Flags of every unit (with their reasons) are read by these; others see their own unit's reasons only.
WATCH_ALL_ROLES = frozenset({Role.OFFICE, Role.LEADER})


def can_see_cases(user) -> bool:
    return bool(user and user.is_authenticated and user.role in CASE_ROLES)


def can_link(user) -> bool:
    return bool(user and user.is_authenticated and user.role in LINK_ROLES)
