"""The operator commands, as an operator runs them."""

from __future__ import annotations

import asyncio
import sys

from tests.integration.conftest import Stack


async def confab(stack: Stack, *args: str, stdin: str = "") -> tuple[int, str, str]:
    env = {
        "CONFAB_DB_NAME": stack.settings.db_name,
        "CONFAB_DATA_DIR": str(stack.settings.data_dir),
        "CONFAB_LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "confab",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    return process.returncode or 0, out.decode(), err.decode()


async def test_user_add_and_token_create_give_a_working_api_token(stack: Stack) -> None:
    code, out, err = await confab(
        stack, "user", "add", "ops@example.com", "--password-stdin", stdin="s3cret-pass\n"
    )
    assert code == 0, err
    assert "ops@example.com" in out
    code, token, err = await confab(stack, "token", "create", "ops@example.com")
    assert code == 0, err
    async with stack.http() as http:
        me = await http.get("/api/me", headers={"Authorization": f"Bearer {token.strip()}"})
        login = await http.post(
            "/api/auth/login", json={"email": "ops@example.com", "password": "s3cret-pass"}
        )
    assert me.json()["email"] == "ops@example.com"
    assert login.status_code == 200


async def test_operator_errors_are_clear_and_exit_non_zero(stack: Stack) -> None:
    code, _, err = await confab(stack, "token", "create", "nobody@example.com")
    assert code == 1 and "nobody@example.com" in err
    code, _, err = await confab(
        stack, "user", "add", "weak@example.com", "--password-stdin", stdin="short\n"
    )
    assert code == 1 and "Password" in err
    code, _, err = await confab(stack, "admin", "grant", "nobody@example.com")
    assert code == 1
