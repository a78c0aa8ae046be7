package io.refundbroker.console;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The browser side of the API, served from the jar: the console for security admins, auditors and
 * store desks at {@code /console/}, and Swagger UI for POS developers at {@code /docs/} (reading
 * {@code /openapi.yaml}). Static files only: the console's own files ({@code webroot/console},
 * {@code webroot/docs}) and third-party assets from WebJars. They are not API operations, so they
 * are mounted on the router beside the contract; the pages call the public API like any other
 * client and get no right of their own.
 *
 * <p>Everything under these paths carries a strict Content-Security-Policy ({@link #DOCS_POLICY}:
 * scripts only from this origin, no inline script or style, no framing; the console's own pages
 * also get {@link #CONSOLE_POLICY}'s Trusted Types rule, so no string can ever become markup or
 * script there), {@code X-Content-Type-Options: nosniff} and {@code Referrer-Policy: no-referrer}.
 */
public final class ConsoleRoutes {
  /** No inline script or style, nothing from another origin, never framed. */
  public static final String DOCS_POLICY =
      String.join(
          "; ",
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self' data: blob:",
          "font-src 'self'",
          "connect-src 'self'",
          "manifest-src 'self'",
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'");

  /**
   * {@link #DOCS_POLICY} plus Trusted Types with no policy: DOM sinks such as {@code innerHTML}
   * refuse strings (the console builds every node itself; Swagger UI could not run with this).
   */
  public static final String CONSOLE_POLICY =
      DOCS_POLICY + "; require-trusted-types-for 'script'; trusted-types 'none'";

  private static final String WEBJARS = "META-INF/resources/webjars/";

  private final String swaggerUiVersion;
  private final String uplotVersion;

  ConsoleRoutes(String swaggerUiVersion, String uplotVersion) {
    this.swaggerUiVersion = swaggerUiVersion;
    this.uplotVersion = uplotVersion;
  }

  /**
   * Finds the WebJars on the classpath.
   *
   * @throws IllegalStateException when a WebJar is missing (a broken build)
   */
  public static ConsoleRoutes fromClasspath() {
    return new ConsoleRoutes(
        webJarVersion("org.webjars", "swagger-ui"), webJarVersion("org.webjars.npm", "uplot"));
  }

  /** Mounts {@code /console/} and {@code /docs/} (GET and HEAD only) on {@code router}. */
  public void mount(Router router) {
    entry(router, "/console", "webroot/console/index.html", CONSOLE_POLICY);
    entry(router, "/docs", "webroot/docs/index.html", DOCS_POLICY);
    serve(
        router,
        "/console/vendor/uplot/*",
        WEBJARS + "uplot/" + uplotVersion + "/dist",
        CONSOLE_POLICY);
    serve(router, "/console/*", "webroot/console", CONSOLE_POLICY);
    serve(router, "/docs/vendor/*", WEBJARS + "swagger-ui/" + swaggerUiVersion, DOCS_POLICY);
    serve(router, "/docs/*", "webroot/docs", DOCS_POLICY);
  }

  private static void serve(Router router, String path, String root, String policy) {
    StaticHandler files =
        StaticHandler.create(root)
            .setCachingEnabled(false)
            .setDirectoryListing(false)
            .setIncludeHidden(false);
    Route route = router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD);
    route.handler(ctx -> secure(ctx, policy)).handler(files);
  }

  /**
   * {@code /console} → redirect to {@code /console/} (the pages' relative links need the slash);
   * {@code /console/} → its {@code index.html}.
   */
  private static void entry(Router router, String path, String indexFile, String policy) {
    router
        .route(path)
        .method(HttpMethod.GET)
        .method(HttpMethod.HEAD)
        .handler(
            ctx -> {
              String requested = ctx.request().path();
              if (requested.equals(path)) {
                headers(ctx.response(), policy)
                    .setStatusCode(301)
                    .putHeader("Location", path + "/")
                    .end();
              } else if (requested.equals(path + "/")) {
                headers(ctx.response(), policy)
                    .putHeader("Content-Type", "text/html;charset=UTF-8")
                    .sendFile(indexFile)
                    .onFailure(ctx::fail);
              } else {
                ctx.next();
              }
            });
  }

  /** The security headers of every console and docs response (also 404s and redirects). */
  private static void secure(RoutingContext ctx, String policy) {
    headers(ctx.response(), policy);
    ctx.next();
  }

  private static HttpServerResponse headers(HttpServerResponse response, String policy) {
    return response
        .putHeader("Content-Security-Policy", policy)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Cross-Origin-Opener-Policy", "same-origin")
        .putHeader("Cross-Origin-Resource-Policy", "same-origin")
        .putHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        .putHeader("Cache-Control", "no-cache");
  }

  private static String webJarVersion(String groupId, String artifactId) {
    String path = "META-INF/maven/" + groupId + "/" + artifactId + "/pom.properties";
    try (InputStream in = ConsoleRoutes.class.getClassLoader().getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException(
            "the console's WebJar is missing from the classpath: " + path);
      }
      Properties properties = new Properties();
      properties.load(in);
      String version = properties.getProperty("version");
      if (version == null || !version.matches("[0-9A-Za-z.+-]+")) {
        throw new IllegalStateException(path + " names no usable version");
      }
      return version;
    } catch (IOException e) {
      throw new UncheckedIOException(path, e);
    }
  }
}
