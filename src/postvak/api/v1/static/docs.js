// Starts Swagger UI on the API documentation page: a file of its own, as the page's CSP runs no inline script.
"use strict";

(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: new URL(root.dataset.openapiUrl, document.baseURI).href,
    domNode: root,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Swagger UI would show a badge loaded from validator.swagger.io: nothing leaves this host.
    validatorUrl: null,
    // An API key typed into "Authorize" lives only as long as the page, never in localStorage.
    persistAuthorization: false,
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    // Its colours for JSON fall short of WCAG's contrast on the dark background; plain text does not.
    syntaxHighlight: false,
  });
})();
