"""Errors in OpenAI's own shape, so OpenAI clients raise the exception they know."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        kind: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = (
            status,
            message,
            kind,
            param,
            code,
        )

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.kind,
                "param": self.param,
                "code": self.code,
            }
        }


def openai_error_handler(_: Request[Any, Any, Any], exc: OpenAIError) -> Response[Any]:
    return Response(exc.body(), status_code=exc.status)


def invalid(message: str, param: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, param=param)


def unauthenticated() -> OpenAIError:
    return OpenAIError(
        401,
        "Incorrect API key provided. Create one on your Confab profile page.",
        code="invalid_api_key",
    )


def model_not_found(model: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
