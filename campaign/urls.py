from django.contrib.auth import views as auth_views
from django.urls import path

from . import auth_views as account_views
from . import notification_views, views

urlpatterns = [
    path("home/", views.home, name="home"),
    path("ops/", views.ops_page, name="ops"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/<int:pk>/read/", notification_views.notification_read, name="notification-read"),
    path("notifications/read-all/", notification_views.notification_read_all, name="notifications-read-all"),
    path("accounts/login/", account_views.login_view, name="login"),
    path("accounts/login/code/", account_views.login_otp, name="login-otp"),
    path("accounts/two-factor/enrol/", account_views.enrol, name="login-enrol"),
    path("accounts/security/", account_views.account_security, name="account-security"),
    path(
        "accounts/security/recovery-codes/", account_views.recovery_codes_new, name="account-recovery-codes"
    ),
    path("accounts/security/two-factor/off/", account_views.otp_disable, name="account-otp-disable"),
    path("accounts/sessions/", account_views.my_sessions, name="account-sessions"),
    path(
        "accounts/sessions/end-others/", account_views.sessions_end_others, name="account-sessions-end-others"
    ),
    path("accounts/sessions/<int:pk>/end/", account_views.session_end, name="account-session-end"),
    path("accounts/password/", account_views.password_change, name="account-password"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
