// The login / sign-up page (one form, a toggle between the two).

import { api, ApiError, type Profile } from "./api";
import { h } from "./dom";

export function renderLogin(root: HTMLElement, onLoggedIn: (me: Profile) => void): void {
  let signingUp = false;

  const title = h("h1", null, "Welcome back");
  const subtitle = h("p", { class: "muted" }, "Log in to continue to Confab.");
  const formError = h("div", { class: "form-error", role: "alert", hidden: true });

  const field = (id: string, label: string, input: HTMLInputElement) => {
    const err = h("div", { class: "field-error", id: `${id}-error`, hidden: true });
    input.setAttribute("aria-describedby", `${id}-error`);
    return { wrap: h("label", { class: "field", for: id }, h("span", { class: "label" }, label), input, err), err, input };
  };

  const name = field("signup-name", "Your name", h("input", { id: "signup-name", type: "text", autocomplete: "name", maxlength: 60, placeholder: "Ada Lovelace" }));
  const email = field("login-email", "Email", h("input", { id: "login-email", type: "email", autocomplete: "email", required: true, placeholder: "you@example.com" }));
  const password = field(
    "login-password",
    "Password",
    h("input", { id: "login-password", type: "password", autocomplete: "current-password", required: true, placeholder: "••••••••" }),
  );
  const hint = h("div", { class: "field-hint", hidden: true }, "At least 8 characters.");
  password.wrap.insertBefore(hint, password.err);
  name.wrap.hidden = true;

  const submit = h("button", { id: "login-submit", type: "submit", class: "btn primary block" }, "Log in");
  const togglePrompt = h("span", null, "Don't have an account?");
  const toggle = h("button", { id: "signup-toggle", type: "button", class: "link" }, "Sign up");

  const clearErrors = () => {
    formError.hidden = true;
    for (const f of [name, email, password]) {
      f.err.hidden = true;
      f.input.removeAttribute("aria-invalid");
    }
  };

  const showError = (err: unknown) => {
    if (err instanceof ApiError) {
      const target = err.field === "email" ? email : err.field === "password" ? password : err.field === "display_name" ? name : null;
      if (target) {
        target.err.textContent = err.message;
        target.err.hidden = false;
        target.input.setAttribute("aria-invalid", "true");
        target.input.focus();
        return;
      }
      formError.textContent =
        err.status === 401 ? "That email and password don't match an account." : err.status === 409 ? "An account with this email already exists. Log in instead?" : err.message;
    } else {
      formError.textContent = "Something went wrong. Try again.";
    }
    formError.hidden = false;
  };

  const setMode = (up: boolean) => {
    signingUp = up;
    clearErrors();
    title.textContent = up ? "Create your account" : "Welcome back";
    subtitle.textContent = up ? "Sign up to start chatting with Confab's bots." : "Log in to continue to Confab.";
    name.wrap.hidden = !up;
    hint.hidden = !up;
    submit.textContent = up ? "Create account" : "Log in";
    togglePrompt.textContent = up ? "Already have an account?" : "Don't have an account?";
    toggle.textContent = up ? "Log in" : "Sign up";
    password.input.autocomplete = up ? "new-password" : "current-password";
    (up ? name.input : email.input).focus();
  };
  toggle.addEventListener("click", () => setMode(!signingUp));

  const form = h(
    "form",
    { class: "auth-form", novalidate: true },
    name.wrap,
    email.wrap,
    password.wrap,
    formError,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const em = email.input.value.trim();
    const pw = password.input.value;
    const nm = name.input.value.trim();
    let bad = false;
    const local = (f: typeof email, msg: string) => {
      f.err.textContent = msg;
      f.err.hidden = false;
      f.input.setAttribute("aria-invalid", "true");
      if (!bad) f.input.focus();
      bad = true;
    };
    if (signingUp && !nm) local(name, "Tell us what to call you.");
    if (!em || !/^\S+@\S+\.?\S*$/.test(em)) local(email, "Enter a valid email address.");
    if (!pw) local(password, "Enter your password.");
    else if (signingUp && pw.length < 8) local(password, "Use at least 8 characters.");
    if (bad) return;
    submit.disabled = true;
    submit.classList.add("busy");
    try {
      const me = signingUp ? await api.register(em, pw, nm) : await api.login(em, pw);
      onLoggedIn(me);
    } catch (err) {
      showError(err);
    } finally {
      submit.disabled = false;
      submit.classList.remove("busy");
    }
  });

  root.replaceChildren(
    h(
      "div",
      { class: "auth-page" },
      h(
        "div",
        { class: "auth-card" },
        h("div", { class: "brand big" }, h("span", { class: "logo" }, "C"), h("span", null, "Confab")),
        title,
        subtitle,
        form,
        h("div", { class: "auth-toggle" }, togglePrompt, " ", toggle),
      ),
      h("p", { class: "auth-foot muted" }, "Self-hosted chat with your own bots."),
    ),
  );
  email.input.focus();
}
