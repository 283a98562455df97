from rest_framework.permissions import BasePermission


def roles_permission(*roles: str) -> type[BasePermission]:
    """A DRF permission class admitting authenticated users with one of `roles`."""

    class HasRole(BasePermission):
        allowed_roles = frozenset(roles)

        def has_permission(self, request, view) -> bool:
            user = request.user
            return bool(user and user.is_authenticated and user.role in self.allowed_roles)

    HasRole.__name__ = "HasRole_" + "_".join(sorted(roles))
    return HasRole
