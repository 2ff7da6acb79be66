// Starts Swagger UI on /docs from a file, not an inline script, so the pages' CSP (script-src 'self') holds.
window.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    validatorUrl: null,  // no badge fetched from validator.swagger.io
    deepLinking: true,
    defaultModelsExpandDepth: -1,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
