"""Who may see the dashboards.

Leaders, the office and administrators see the city-wide dashboards, the summary API and the exports.
Liaisons and unit heads are refused the city-wide pages (403): they see their own unit's figures in a
panel on their home page instead. Police intake and discipline inspection are refused as well.
Proposing accountability for a blind spot is office work (leaders read, DESIGN.md).
"""

from campaign.roles import Role

DASHBOARD_ROLES = (Role.LEADER, Role.OFFICE, Role.ADMIN)
PROPOSE_ROLES = (Role.OFFICE, Role.ADMIN)
UNIT_PANEL_ROLES = (Role.LIAISON, Role.UNIT_HEAD)


def can_propose(user) -> bool:
    return bool(user and user.is_authenticated and user.role in PROPOSE_ROLES)
