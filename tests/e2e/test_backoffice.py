"""The back office in a browser: each demo account signs in on a phone with what
``avis demo`` printed, sees its role's home and menu, and signs out; axe-core on every
page each role may open and on the sign-in pages (their error states too); the keyboard
alone; English; the Content-Security-Policy.

The live server lives for the whole package: once the admin has set up the second factor
(at its first sign-in, in whichever test comes first), later sign-ins ask for a code;
``sign_in`` follows either way and ``Authenticator`` plays the phone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Authenticator, DemoLogin
from tests.e2e.test_accessibility import axe_source, describe

#: What the back office says, in each language (the French one from the translations).
TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "sign_in": "Se connecter",
        "email": "Adresse électronique",
        "password": "Mot de passe",
        "refused": "Connexion refusée",
        "second_factor": "Double authentification",
        "code": "Code",
        "continue": "Continuer",
        "setup": "Configurer la double authentification",
        "setup_code": "Code affiché par l’application",
        "turn_on": "Activer",
        "qr": "Code QR de votre clé",
        "wrong_code": "Ce code n’est pas le bon",
        "recovery_codes": "Vos codes de secours",
        "kept_them": "Je les ai gardés, continuer",
        "menu": "Espace professionnel",
        "signed_in_as": "Connecté en tant que {}",
        "sign_out": "Se déconnecter",
        "signed_out": "Vous êtes déconnecté",
        "home": "Accueil",
        "dashboard": "Tableau de bord",
        "alerts": "Alertes",
        "moderation": "Modération",
        "bodies": "Organismes de formation",
        "lists": "Listes",
        "imports": "Imports",
        "accounts": "Comptes",
        "journal": "Journal",
        "personal_data": "Données personnelles",
        "my_account": "Mon compte",
        "our_reviews": "Nos avis",
        "evidence": "Preuves Qualiopi",
        "colleagues": "Collègues",
        "notifications": "Notifications par courriel",
        "forgot_link": "Mot de passe oublié ?",
        "forgot": "Mot de passe oublié",
        "send_link": "M’envoyer un lien",
        "check_email": "Consultez vos courriels",
        "error_summary": "Des réponses manquent ou sont à corriger",
        "open_account": "Ouvrir un compte",
        "save": "Enregistrer",
        "name": "Nom",
        "role": "Rôle",
        "establishment": "SIRET ou SIREN",
        "filter_accounts": "Adresse ou nom",
        "filter": "Filtrer",
        "remove_second_factor": "Retirer sa double authentification (téléphone perdu)",
        "second_factor_removed": "La double authentification est retirée",
        "change_password": "Changer mon mot de passe",
        "current_password": "Mot de passe actuel",
        "new_password": "Nouveau mot de passe",
        "new_password_again": "Nouveau mot de passe, à nouveau",
        "contact": "Adresse de contact de l’organisme",
    },
    "en": {
        "sign_in": "Sign in",
        "email": "Email address",
        "password": "Password",
        "second_factor": "Second factor",
        "code": "Code",
        "continue": "Continue",
        "setup": "Set up the second factor",
        "setup_code": "Code shown by the app",
        "turn_on": "Turn on",
        "qr": "QR code of your key",
        "recovery_codes": "Your recovery codes",
        "kept_them": "I have kept them, continue",
        "menu": "Back office",
        "signed_in_as": "Signed in as {}",
        "sign_out": "Sign out",
        "signed_out": "You are signed out",
        "home": "Home",
        "dashboard": "Dashboard",
        "alerts": "Alerts",
        "moderation": "Moderation",
        "bodies": "Training bodies",
        "lists": "Lists",
        "imports": "Imports",
        "accounts": "Accounts",
        "journal": "Journal",
        "personal_data": "Personal data",
        "my_account": "My account",
        "our_reviews": "Our reviews",
        "evidence": "Qualiopi evidence",
        "colleagues": "Colleagues",
        "notifications": "Email notifications",
    },
}
FR, EN = TEXTS["fr"], TEXTS["en"]


@dataclass(frozen=True)
class Role:
    """What one demo account should find: its printed address, its home's heading, its
    menu, and whether it must set up a second factor."""

    email: str
    heading: dict[str, str]
    menu: tuple[str, ...]
    second_factor: bool = False

    def menu_in(self, lang: str) -> list[str]:
        return [TEXTS[lang][entry] for entry in self.menu]


BODY_MENU = ("home", "our_reviews", "evidence", "bodies", "colleagues", "notifications",
             "my_account")
ROLES = {
    "admin": Role("admin@demo.avis.example",
                  {"fr": "Administration", "en": "Administration"},
                  ("home", "dashboard", "alerts", "moderation", "bodies", "lists", "imports",
                   "accounts", "journal", "personal_data", "my_account"),
                  second_factor=True),
    "moderator": Role("moderation@demo.avis.example",
                      {"fr": "Modération", "en": "Moderation"},
                      ("home", "moderation", "bodies", "my_account")),
    "region": Role("region@demo.avis.example",
                   {"fr": "Pays de la Loire", "en": "Pays de la Loire"},
                   ("home", "dashboard", "alerts", "bodies", "lists", "imports",
                    "my_account")),
    "network": Role("reseau@demo.avis.example",
                    {"fr": "Votre organisme de formation", "en": "Your training body"},
                    BODY_MENU),
    "establishment": Role("organisme@demo.avis.example",
                          {"fr": "Votre organisme de formation", "en": "Your training body"},
                          BODY_MENU),
}
#: Pages only the admin may open: anyone else gets 403.
ADMIN_ONLY = ("/admin/comptes", "/admin/comptes/nouveau", "/admin/journal")


def printed_login(demo_logins: list[DemoLogin], role: str) -> DemoLogin:
    found = [login for login in demo_logins if login.email == ROLES[role].email]
    assert len(found) == 1, f"avis demo printed no login for {ROLES[role].email}: {demo_logins}"
    return found[0]


# --- Signing in and out ---------------------------------------------------------------

def heading(page: Any) -> Any:
    return page.get_by_role("heading", level=1)


def sign_in(page: Any, login: DemoLogin, authenticator: Authenticator, *, lang: str = "fr",
            on_page: Callable[[str], None] | None = None) -> list[str]:
    """Sign in through the form of the page already open (``/login``), then through the
    second factor the server asks for: its setup (the key read from the page, the
    recovery codes kept) or a code. ``on_page(name)`` runs on each page of the way
    ("login", then "setup" and "recovery_codes", or "code") before it is filled in;
    returns the names of the second-factor pages met."""
    t = TEXTS[lang]
    check = on_page or (lambda name: None)
    expect(heading(page)).to_have_text(t["sign_in"])
    check("login")
    page.get_by_label(t["email"], exact=True).fill(login.email)
    page.get_by_label(t["password"], exact=True).fill(login.password)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    page.wait_for_url(re.compile(r"/(admin/.*|login/code|login/double-authentification)$"))
    way = []
    if page.url.endswith("/login/double-authentification"):
        way += ["setup", "recovery_codes"]
        expect(heading(page)).to_have_text(t["setup"])
        key = page.locator("code.secret").inner_text()
        assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})+", key), \
            f"the key is not shown in groups of 4 characters: {key!r}"
        qr = page.get_by_role("img", name=t["qr"])
        expect(qr).to_be_visible()
        assert qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
        authenticator.enrol(login.email, key)
        check("setup")
        page.get_by_label(t["setup_code"], exact=True).fill(authenticator.code(login.email))
        page.get_by_role("button", name=t["turn_on"], exact=True).click()
        expect(heading(page)).to_have_text(t["recovery_codes"])
        codes = page.get_by_role("main").locator("ul.codes li").all_inner_texts()
        assert len(codes) == 10, codes
        assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", code) for code in codes), codes
        authenticator.recovery_codes[login.email] = codes
        check("recovery_codes")
        page.get_by_role("link", name=t["kept_them"], exact=True).click()
    elif page.url.endswith("/login/code"):
        way.append("code")
        expect(heading(page)).to_have_text(t["second_factor"])
        assert authenticator.knows(login.email), \
            f"the server asks {login.email} for a code, but no second factor was set up here"
        check("code")
        page.get_by_label(t["code"], exact=True).fill(authenticator.code(login.email))
        page.get_by_role("button", name=t["continue"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/"))
    expect(page.locator(".whoami")).to_contain_text(t["signed_in_as"].format(login.email))
    return way


def sign_out(page: Any, live_server: Any, lang: str = "fr") -> None:
    """The header's button; then the back office sends the browser to the sign-in page."""
    t = TEXTS[lang]
    page.get_by_role("button", name=t["sign_out"], exact=True).click()
    expect(heading(page)).to_have_text(t["signed_out"])
    expect(page.get_by_role("button", name=t["sign_out"])).to_have_count(0)
    response = page.request.get(f"{live_server.url}/admin/", max_redirects=0)
    assert response.status == 302, f"/admin/ answered {response.status} after signing out"
    assert response.headers["location"].startswith("/login"), response.headers


def menu(page: Any, lang: str = "fr") -> Any:
    return page.get_by_role("navigation", name=TEXTS[lang]["menu"]).get_by_role("link")


def horizontal_overflow(page: Any) -> str | None:
    """Why the page scrolls sideways, or None when it does not."""
    width, client = page.evaluate("() => [document.documentElement.scrollWidth, "
                                  "document.documentElement.clientWidth]")
    if width <= client:
        return None
    # The culprits: boxes beyond the screen's edge, or whose content overflows them.
    wide = page.evaluate("""(width) => Array.from(document.querySelectorAll("body *"))
        .filter((e) => !e.closest(".table-wrap") && (e.getBoundingClientRect().right > width
            || (e.scrollWidth > e.clientWidth + 1
                && getComputedStyle(e).overflowX === "visible")))
        .slice(-5).map((e) => e.outerHTML.slice(0, 160))""", client)
    return f"{width}px wide on a {client}px screen: {wide}"


# --- Each demo login, on a phone ------------------------------------------------------

def test_the_demo_printed_one_login_per_role(demo_logins):
    assert sorted(login.email for login in demo_logins) == sorted(
        role.email for role in ROLES.values())
    for login in demo_logins:
        assert login.label, login
        assert login.password, login


@pytest.mark.parametrize("role", list(ROLES))
def test_each_demo_login_signs_in_and_out_on_a_phone(page, live_server, demo_logins,
                                                     authenticator, role):
    expected = ROLES[role]
    login = printed_login(demo_logins, role)
    if not expected.second_factor:
        expected_way = []
    elif authenticator.knows(login.email):
        expected_way = ["code"]
    else:
        expected_way = ["setup", "recovery_codes"]
    overflows = {}

    def on_page(name: str) -> None:
        overflows[name] = horizontal_overflow(page)

    page.goto("/login")
    way = sign_in(page, login, authenticator, on_page=on_page)
    assert way == expected_way

    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(heading(page)).to_have_text(expected.heading["fr"])
    expect(menu(page)).to_have_text(expected.menu_in("fr"))
    expect(menu(page).filter(has_text=FR["home"])).to_have_attribute("aria-current", "page")
    overflows["home"] = horizontal_overflow(page)
    assert not any(overflows.values()), overflows
    # What the menu leaves out is refused, not only hidden.
    for path in ADMIN_ONLY:
        status = page.request.get(f"{live_server.url}{path}", max_redirects=0).status
        assert status == (200 if role == "admin" else 403), f"{path}: {status}"

    sign_out(page, live_server)
    assert horizontal_overflow(page) is None
    assert page.log.console_errors == [], page.log.console_errors
    assert page.log.page_errors == [], page.log.page_errors


# --- axe-core: every page, as each role sees it ----------------------------------------

def violations(page: Any) -> list[dict[str, Any]]:
    """Every violation axe-core finds on the page as it is now, whatever its impact."""
    page.evaluate(axe_source())
    assert page.evaluate("() => axe.version"), "axe-core did not load"
    return page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")["violations"]


#: Markup the Content-Security-Policy would refuse to run or apply: inline scripts and
#: styles, event-handler attributes, ``javascript:`` links.
INLINE = """() => {
  const html = (e) => e.outerHTML.slice(0, 120);
  const all = Array.from(document.querySelectorAll("*"));
  return [
    ...Array.from(document.scripts).filter((e) => !e.src).map(html),
    ...Array.from(document.querySelectorAll("style, [style]")).map(html),
    ...all.filter((e) => Array.from(e.attributes).some((a) => /^on/i.test(a.name))).map(html),
    ...Array.from(document.querySelectorAll("[href^='javascript:' i], [action^='javascript:' i]"))
      .map(html),
  ];
}"""
#: The policy every page is served with (avis.security.CONTENT_SECURITY_POLICY).
POLICY = {"default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
          "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'"}
#: What Chromium logs for a page answered with an error status (422: a form with errors).
ERROR_STATUS = "Failed to load resource: the server responded with a status of {} ({})"


def policy_problems(header: str | None) -> list[str]:
    if not header:
        return ["no Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value.strip()
    problems = [f"{name} is {directives.get(name)!r}, not {value!r}"
                for name, value in POLICY.items() if directives.get(name) != value]
    if "unsafe" in header:
        problems.append(f"an unsafe source: {header}")
    return problems


class Findings:
    """What is wrong with the pages of one browser, page after page, reported at once:
    axe-core's violations, sideways scrolling on the phone, markup the
    Content-Security-Policy refuses, a page served without the policy, and any console
    error (Chromium logs every CSP violation there) but the line each 422 adds."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: dict[str, list[str]] = {}
        self.documents: list[Any] = []
        page.on("response", lambda response: self.documents.append(response)
                if response.request.resource_type == "document" else None)

    def check(self, what: str) -> None:
        problems = []
        inline = self.page.evaluate(INLINE)
        if inline:
            problems.append(f"markup the Content-Security-Policy refuses: {inline}")
        found = violations(self.page)
        if found:
            problems.append(f"axe-core violations\n{describe(found)}")
        overflow = horizontal_overflow(self.page)
        if overflow:
            problems.append(f"scrolls sideways: {overflow}")
        if problems:
            self.found[f"{what} ({self.page.url})"] = problems

    def assert_none(self) -> None:
        found = dict(self.found)
        assert self.documents, "no page was loaded"
        for response in self.documents:
            problems = policy_problems(response.headers.get("content-security-policy"))
            if problems:
                found[f"the response {response.status} to {response.url}"] = problems
        # Only forms with errors answer 422 here.
        expected = [ERROR_STATUS.format(response.status, response.status_text)
                    for response in self.documents if response.status == 422]
        log = self.page.log
        if log.console_errors != expected or log.page_errors:
            found["the console"] = [f"expected {expected}; errors: {log.console_errors}, "
                                    f"{log.page_errors}"]
        assert not found, "\n".join(f"{what}: " + "\n".join(problems)
                                     for what, problems in found.items())


def open_page(page: Any, path: str, title: str | None = None) -> None:
    response = page.goto(path)
    assert response.status == 200, f"{path}: {response.status}"
    if title is not None:
        expect(heading(page)).to_have_text(title)
    else:
        expect(heading(page)).to_be_visible()


def test_sign_in_pages_are_accessible(page, live_server):
    findings = Findings(page)
    open_page(page, "/login", FR["sign_in"])
    findings.check("the sign-in page")

    # Nothing typed: each field says what is missing.
    page.get_by_role("button", name=FR["sign_in"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(FR["error_summary"])
    expect(page.get_by_label(FR["email"], exact=True)).to_have_attribute("aria-invalid", "true")
    findings.check("the sign-in page with empty fields")

    # A wrong address: the one answer for every failure.
    page.get_by_label(FR["email"], exact=True).fill("personne@demo.avis.example")
    page.get_by_label(FR["password"], exact=True).fill("Pas-Le-Bon-Mot-De-Passe")
    page.get_by_role("button", name=FR["sign_in"], exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(FR["refused"])
    findings.check("the sign-in page after a failure")

    page.get_by_role("link", name=FR["forgot_link"]).click()
    expect(heading(page)).to_have_text(FR["forgot"])
    findings.check("the forgotten-password page")
    page.get_by_role("button", name=FR["send_link"]).click()
    expect(page.get_by_role("alert")).to_contain_text(FR["error_summary"])
    findings.check("the forgotten-password page with an empty field")
    page.get_by_label(FR["email"], exact=True).fill("personne@demo.avis.example")
    page.get_by_role("button", name=FR["send_link"]).click()
    expect(heading(page)).to_have_text(FR["check_email"])
    findings.check("the forgotten-password page, link sent")

    open_page(page, "/login?lang=en", EN["sign_in"])
    findings.check("the sign-in page in English")
    findings.assert_none()


def test_second_factor_pages_are_accessible(new_page, live_server, demo_logins, authenticator):
    """The admin's code page and, after the admin removes their own second factor (lost
    phone), the setup page again: each also with a wrong code, and the recovery codes."""
    login = printed_login(demo_logins, "admin")
    if not authenticator.knows(login.email):
        # The first sign-in sets the second factor up: then the code page can be seen.
        first = new_page()
        first.goto("/login")
        sign_in(first, login, authenticator)
        sign_out(first, live_server)
    page = new_page()
    findings = Findings(page)

    def check(name: str) -> None:
        findings.check(f"the {name} page")
        if name in ("code", "setup"):
            label = FR["code"] if name == "code" else FR["setup_code"]
            button = FR["continue"] if name == "code" else FR["turn_on"]
            page.get_by_label(label, exact=True).fill(authenticator.wrong_code(login.email))
            page.get_by_role("button", name=button, exact=True).click()
            expect(page.get_by_role("alert")).to_contain_text(FR["wrong_code"])
            findings.check(f"the {name} page after a wrong code")

    page.goto("/login")
    assert sign_in(page, login, authenticator, on_page=check) == ["code"]

    # The admin's own account: remove the second factor, as after losing one's phone.
    open_page(page, f"/admin/comptes?q={login.email}", FR["accounts"])
    page.get_by_role("link", name=login.email, exact=True).click()
    expect(heading(page)).to_have_text(login.email)
    page.get_by_role("button", name=FR["remove_second_factor"]).click()
    # Removing one's own factor ends one's sessions: back to sign-in, and a new set-up.
    page.wait_for_url(re.compile(r"/login\?next="))
    authenticator.forget(login.email)

    page.goto("/login")
    assert sign_in(page, login, authenticator, on_page=check) == ["setup", "recovery_codes"]
    expect(heading(page)).to_have_text(ROLES["admin"].heading["fr"])
    sign_out(page, live_server)
    findings.check("the signed-out page")
    findings.assert_none()


def admin_pages(page: Any, login: DemoLogin) -> list[tuple[str, str]]:
    """(path, what) of the pages only the admin opens, the account's own one included."""
    open_page(page, f"/admin/comptes?q={login.email}", FR["accounts"])
    own = page.get_by_role("link", name=login.email, exact=True).get_attribute("href")
    return [("/admin/comptes", "the accounts"), ("/admin/comptes/nouveau", "the invite form"),
            (own, "one account"), ("/admin/journal", "the journal"),
            ("/admin/journal?action=account.sign_in", "the journal, filtered")]


@pytest.mark.parametrize("role", list(ROLES))
def test_back_office_pages_are_accessible(page, live_server, demo_logins, authenticator, role):
    login = printed_login(demo_logins, role)
    findings = Findings(page)
    page.goto("/login")
    sign_in(page, login, authenticator)

    pages = [("/admin/", "the home page"), ("/admin/organismes", "the training bodies"),
             ("/admin/organismes?q=a", "the training bodies, searched"),
             ("/admin/compte", "my account")]
    if role == "admin":
        pages += admin_pages(page, login)
    else:
        pages.append(("/admin/compte/double-authentification", "the second-factor setup"))
    if role in ("admin", "moderator"):
        pages += [("/admin/moderation", "the moderation queue"),
                  ("/admin/moderation?onglet=decides", "the decided comments"),
                  ("/admin/moderation?departement=44&q=formation", "the queue, filtered"),
                  ("/admin/moderation?onglet=reponses", "the replies awaiting"),
                  ("/admin/moderation?onglet=signalements", "the reports awaiting"),
                  ("/admin/moderation?signal=donnees", "the queue, personal data flagged"),
                  ("/admin/moderation/statistiques", "the moderation statistics")]
    for path, what in pages:
        open_page(page, path)
        findings.check(what)
    if role in ("admin", "moderator"):
        open_page(page, "/admin/moderation")
        page.get_by_role("link", name=re.compile("^Retoucher, exclure, historique")).first.click()
        findings.check("a comment's moderation page")

    # One body within the account's scope, from the list.
    open_page(page, "/admin/organismes", FR["bodies"])
    body_link = page.get_by_role("region", name=FR["bodies"]).get_by_role("link").first
    body_name = body_link.inner_text()
    body_link.click()
    expect(heading(page)).to_have_text(body_name)
    findings.check("a training body")
    if role in ("admin", "moderator"):
        page.get_by_label(FR["contact"], exact=True).fill("pas une adresse")
        page.get_by_role("button", name=FR["save"]).click()
        expect(page.get_by_label(FR["contact"], exact=True)).to_have_attribute(
            "aria-invalid", "true")
        findings.check("a training body's contact form with an error")

    # Forms in their error state.
    open_page(page, "/admin/compte", FR["my_account"])
    page.get_by_label(FR["current_password"], exact=True).first.fill("pas le bon")
    page.get_by_label(FR["new_password"], exact=True).fill("Une phrase assez longue")
    page.get_by_label(FR["new_password_again"], exact=True).fill("Une autre phrase")
    page.get_by_role("button", name=FR["change_password"]).click()
    expect(page.get_by_role("alert")).to_contain_text(FR["error_summary"])
    findings.check("my account, the password form with errors")
    if role == "admin":
        open_page(page, "/admin/comptes/nouveau", FR["open_account"])
        page.get_by_label(FR["name"], exact=True).fill("Quelqu’un")
        page.get_by_label(FR["role"], exact=True).select_option(label="Organisme de formation")
        page.get_by_label(FR["establishment"], exact=True).fill("123")
        page.get_by_role("button", name=FR["save"]).click()
        expect(page.get_by_role("alert")).to_contain_text(FR["error_summary"])
        findings.check("the invite form with errors")

    sign_out(page, live_server)
    findings.check("the signed-out page")
    findings.assert_none()


# --- The keyboard alone ---------------------------------------------------------------

#: The element that has the keyboard focus, and whether its outline shows it.
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el), box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(), name: el.name || null, type: el.type || null,
    text: (el.innerText || el.value || "").trim().slice(0, 60), href: el.getAttribute("href"),
    outline: style.outline,
    visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
      && style.visibility !== "hidden" && box.width > 2 && box.height > 2
      && box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight,
  };
}"""


def tab_until(page: Any, wanted: Callable[[dict[str, Any]], bool], what: str,
              presses: int = 25) -> dict[str, Any]:
    """Press Tab until the focus is on ``wanted``; every stop must show its focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["visible"], f"the keyboard focus cannot be seen on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"{presses} presses of Tab never reached {what}")


def test_keyboard_only_with_visible_focus(page, live_server, demo_logins):
    login = printed_login(demo_logins, "region")
    page.goto("/login")
    expect(heading(page)).to_have_text(FR["sign_in"])

    tab_until(page, lambda f: f["name"] == "email", "the email field")
    page.keyboard.type(login.email)
    tab_until(page, lambda f: f["name"] == "password", "the password field")
    page.keyboard.type(login.password)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(heading(page)).to_have_text(ROLES["region"].heading["fr"])

    focused = tab_until(page, lambda f: f["tag"] == "a" and f["text"] == FR["bodies"],
                        "the menu entry")
    assert focused["href"] == "/admin/organismes", focused
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/admin/organismes")
    expect(heading(page)).to_have_text(FR["bodies"])
    expect(menu(page).filter(has_text=FR["bodies"])).to_have_attribute("aria-current", "page")

    # The table of bodies scrolls sideways on a phone: it takes the focus, and then a
    # body opens with Enter.
    tab_until(page, lambda f: f["tag"] == "div", "the table of bodies")
    focused = tab_until(page, lambda f: f["tag"] == "a" and "/admin/organismes/" in
                        (f["href"] or ""), "a training body")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}{focused['href']}")
    expect(heading(page)).to_have_text(focused["text"])

    tab_until(page, lambda f: f["type"] == "submit" and f["text"] == FR["sign_out"],
              "the sign-out button")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(FR["signed_out"])
    assert page.log.console_errors == [], page.log.console_errors


# --- English --------------------------------------------------------------------------

def test_english_sign_in_and_back_office(page, live_server, demo_logins, authenticator):
    """On a French phone, the English link of the sign-in page: every page after it,
    signed in or out, stays in English."""
    login = printed_login(demo_logins, "moderator")
    page.goto("/login?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_in(page, login, authenticator, lang="en")

    expect(page).to_have_url(f"{live_server.url}/admin/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading(page)).to_have_text(ROLES["moderator"].heading["en"])
    expect(menu(page, "en")).to_have_text(ROLES["moderator"].menu_in("en"))
    for entry in ("bodies", "my_account"):
        menu(page, "en").filter(has_text=EN[entry]).click()
        expect(heading(page)).to_have_text(EN[entry])
        expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_out(page, live_server, "en")
    page.goto("/login")
    expect(heading(page)).to_have_text(EN["sign_in"])
    assert page.log.console_errors == [], page.log.console_errors
