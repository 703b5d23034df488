"""The OpenAPI 3.1 document of the server (``GET /openapi.json``; rendered offline by ``/docs``)."""
from __future__ import annotations

from zhnlp.serve.validate import Limits

ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema: dict | None = None, media: str = "application/json") -> dict:
    return {"description": description, **({"content": {media: {"schema": schema}}} if schema else {})}


def document(names: list[str], limits: Limits, version: str) -> dict:
    """The OpenAPI document for a server holding the models ``names`` (the first one at ``/predict``)."""
    predict = {
        "summary": "Predict for each text",
        "description": (f"One prediction per text, in order: exactly what `zhnlp.load(RUN).predict([text])[0]` "
                        f"returns (NER: entity spans with offsets; classification: label and probabilities; "
                        f"KBQA: answer, entity, predicate; keywords: [keyword, score] pairs). At most "
                        f"{limits.max_texts} texts of at most {limits.max_chars} characters."),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/PredictRequest"}}}},
        "responses": {
            "200": _answer("The predictions", {"$ref": "#/components/schemas/PredictResponse"}),
            "400": _answer("The body is not JSON", ERROR),
            "413": _answer("More texts or longer texts than the limits", ERROR),
            "422": _answer("`texts` is missing or not a list of strings", ERROR),
            "500": _answer("The model failed on this batch", ERROR),
        },
    }
    named = {**predict, "summary": "Predict with one model", "parameters": [
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": names}}],
        "responses": {**predict["responses"], "404": _answer("No model of this name", ERROR)}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "zhnlp serve", "version": version,
                 "description": f"Models: {', '.join(names)}. `/predict` serves {names[0]}."},
        "paths": {
            "/predict": {"post": {**predict, "summary": f"Predict with {names[0]} (the first model)"}},
            "/models/{name}/predict": {"post": named},
            "/models": {"get": {"summary": "The models served", "responses": {"200": _answer(
                "One entry per model", {"type": "array", "items": {"$ref": "#/components/schemas/Model"}})}}},
            "/health": {"get": {"summary": "200 once the models are loaded", "responses": {"200": _answer(
                "Ready", {"type": "object", "properties": {"status": {"const": "ok"},
                                                           "models": {"type": "array", "items": {"type": "string"}}}})}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": _answer(
                "Exposition text", {"type": "string"}, "text/plain")}}},
            "/": {"get": {"summary": "A page to try the models in a browser", "responses": {"200": _answer(
                "HTML", {"type": "string"}, "text/html")}}},
        },
        "components": {"schemas": {
            "PredictRequest": {"type": "object", "required": ["texts"], "properties": {"texts": {
                "type": "array", "maxItems": limits.max_texts,
                "items": {"type": "string", "maxLength": limits.max_chars}}},
                "example": {"texts": ["张伟在北京大学读书。"]}},
            "PredictResponse": {"type": "object", "properties": {"predictions": {"type": "array", "items": {}}}},
            "Model": {"type": "object", "properties": {k: {"type": t} for k, t in (
                ("name", "string"), ("task", "string"), ("labels", "array"), ("encoder", ["string", "null"]),
                ("source", "string"), ("predictor", "string"))}},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        }},
    }
