package io.refundbroker.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.sandbox.Fault;
import io.refundbroker.testing.Browser;
import io.refundbroker.testing.Browser.Viewport;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The store desk (a STORE token) in real headless Chromium, at a desktop and a phone size: an order
 * paid in another store is looked up (or found by the cashier's search) and part of it refunded,
 * from submit to {@code SUCCEEDED}; Swagger UI at {@code /docs/} renders the contract; every
 * console and docs response carries the security headers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleDeskIT {
  private RefundWorld world;
  private Browser browser;
  private Shop oslo;
  private Shop bergen;

  @BeforeAll
  void start() {
    Browser.requireChromium();
    world = RefundWorld.start();
    oslo = world.shop("cd-oslo", "cd", "550001");
    bergen = world.shop("cd-bergen", "cd", "550002");
    browser = Browser.start(world.broker.baseUrl());
  }

  @AfterEach
  void noJavaScriptErrors() {
    assertThat(browser.javaScriptErrors()).as("errors in the browser's console").isEmpty();
    world.vipps.assertNoViolations();
  }

  @AfterAll
  void stop() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      if (world != null) {
        world.close();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aStoreDeskRefundGoesFromSubmitToSucceeded(Viewport viewport) {
    String orderId = "550001-order-" + viewport.name().toLowerCase(Locale.ROOT);
    world.sale(oslo, orderId, 49_900);
    browser.viewport(viewport);
    browser.signIn(bergen.token());
    assertThat(browser.text("#who-role")).isEqualTo("STORE");
    assertThat(browser.present("#nav-desk")).isTrue();
    assertThat(browser.present("#nav-stores")).isFalse();
    assertThat(browser.present("#nav-refunds")).isFalse();
    browser.screenshot("desk");

    browser.type("#lookup-form #orderId", orderId);
    browser.click("#lookup");
    browser.waitForText("#order-refundable", "NOK 499.00");
    assertThat(browser.text("#order-origin")).contains("cd-oslo");
    browser.type("#refund-form #amount", "150.00");
    browser.type("#refund-form #reason", "Returned scarf");
    browser.screenshot("desk-order");
    browser.click("#refund-submit");
    browser.waitFor("#refund-card[data-status='SUCCEEDED']");
    browser.waitForText("#order-refundable", "NOK 349.00");
    browser.waitFor("#order-refund-table");
    browser.screenshot("desk-refunded");

    String refundId = browser.text("#refund-id");
    HttpResult refund = world.broker.get("/v1/refunds/" + refundId, oslo.token());
    assertThat(refund.json().getString("status")).isEqualTo("SUCCEEDED");
    assertThat(refund.json().getString("requestingStoreId")).isEqualTo("cd-bergen");
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals(orderId))
        .singleElement()
        .satisfies(e -> assertThat(e.amount().value()).isEqualTo(15_000));
    List<Map<String, Object>> keys =
        world
            .broker
            .database()
            .query("SELECT idempotency_key FROM refunds WHERE refund_id = ?::uuid", refundId);
    assertThat(keys)
        .as("the page made the Idempotency-Key")
        .singleElement()
        .satisfies(row -> assertThat((String) row.get("idempotency_key")).startsWith("desk-"));
  }

  /**
   * The cashier's search: 23 sales of one amount page in the results (20, then "More"); the receipt
   * digits find one order of another store, which is picked, refunded and then shows as refunded
   * here. Neither the session's token nor any store's Vipps keys are ever in the page.
   */
  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aCashierSearchesByAmountAndReceiptDigitsAndRefundsTheHit(Viewport viewport) {
    boolean desktop = viewport == Viewport.DESKTOP;
    long common = desktop ? 12_300 : 12_400;
    String digits = desktop ? "773101" : "773102";
    String target = "550001-rcpt-" + digits;
    for (int i = 0; i < 23; i++) {
      HttpResult sale =
          world.broker.post(
              "/v1/orders",
              oslo.token(),
              new JsonObject()
                  .put("orderId", "550001-" + viewport.name() + "-" + i)
                  .put("amount", RefundWorld.nok(common)));
      assertThat(sale.status()).as(sale.toString()).isEqualTo(201);
    }
    world.sale(oslo, target, 25_900);
    browser.viewport(viewport);
    browser.signIn(bergen.token());

    browser.type("#search-amount", (common / 100) + ".00");
    browser.click("#search");
    browser.waitFor("#search-table");
    assertThat(browser.all("#search-table tbody tr")).hasSize(20);
    browser.click("#search-more");
    new WebDriverWait(browser.driver(), Browser.WAIT)
        .until(d -> browser.all("#search-table tbody tr").size() == 23);
    assertThat(browser.present("#search-more")).as("the last page").isFalse();
    assertThat(browser.text("#search-table tbody tr")).contains("NOK " + (common / 100) + ".00");
    browser.screenshot("desk-search-amount");

    browser.type("#search-amount", "");
    browser.type("#search-q", digits.substring(2));
    browser.click("#search");
    browser.waitFor("#search-table tr[data-order-id='" + target + "']");
    assertThat(browser.all("#search-table tbody tr")).hasSize(1);
    assertThat(browser.text("#search-table tbody tr")).contains("cd-oslo", "NOK 259.00");
    browser.screenshot("desk-search-digits");
    browser.click("#search-table tr[data-order-id='" + target + "'] button.pick");
    browser.waitForText("#order-refundable", "NOK 259.00");
    assertThat(browser.text("#order-origin")).contains("cd-oslo");
    browser.type("#refund-form #amount", "50.00");
    browser.type("#refund-form #reason", "Wrong size");
    browser.click("#refund-submit");
    browser.waitFor("#refund-card[data-status='SUCCEEDED']");

    browser.click("#search");
    browser.waitForText("#search-table tr[data-order-id='" + target + "']", "NOK 50.00");

    String dom =
        String.valueOf(browser.driver().executeScript("return document.documentElement.outerHTML"));
    assertThat(dom).as("the session's token is never in the page").doesNotContain(bergen.token());
    String everything = browser.pageAndStorage();
    for (Shop shop : List.of(oslo, bergen)) {
      assertThat(everything)
          .doesNotContain(shop.keys().clientSecret().reveal())
          .doesNotContain(shop.keys().subscriptionKey().reveal());
    }
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals(target))
        .singleElement()
        .satisfies(e -> assertThat(e.amount().value()).isEqualTo(5_000));
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aSearchWithoutAnythingToSearchForOrWithBadDigitsExplainsWhy(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(bergen.token());
    browser.click("#search");
    browser.waitForText("#search-results .alert.error", "receipt digits");
    browser.type("#search-amount", "12,5x");
    browser.click("#search");
    browser.waitForText("#search-results .alert.error", "is not an amount");
    browser.type("#search-amount", "");
    browser.type("#search-q", "99999999");
    browser.click("#search");
    browser.waitFor("#search-none");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anUnconfirmedRefundIsFollowedUntilTheReconcilerSettlesIt(Viewport viewport) {
    String orderId = "550001-lost-" + viewport.name().toLowerCase(Locale.ROOT);
    world.sale(oslo, orderId, 30_000);
    // Vipps never answers the broker's two attempts: the outcome is not known yet
    world
        .vipps
        .sandbox()
        .inject(Fault.reset().on(Fault.Target.REFUND).forReference(orderId).times(2));
    browser.viewport(viewport);
    browser.signIn(bergen.token());
    browser.type("#lookup-form #orderId", orderId);
    browser.click("#lookup");
    browser.waitForText("#order-refundable", "NOK 300.00");
    browser.type("#refund-form #amount", "100");
    browser.type("#refund-form #reason", "Broken zip");
    browser.click("#refund-submit");
    browser.waitFor("#refund-card[data-status='UNKNOWN']");
    browser.screenshot("desk-refund-unknown");
    assertThat(world.ledger()).noneMatch(e -> e.reference().equals(orderId));

    world.reconcileUntilResolved(5);
    browser.waitFor("#refund-card[data-status='SUCCEEDED']");
    browser.waitForText("#order-refundable", "NOK 200.00");
    assertThat(world.ledger())
        .filteredOn(e -> e.reference().equals(orderId))
        .singleElement()
        .satisfies(e -> assertThat(e.amount().value()).isEqualTo(10_000));
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aRefundAboveWhatIsRefundableShowsTheProblemDetail(Viewport viewport) {
    String orderId = "550001-small-" + viewport.name().toLowerCase(Locale.ROOT);
    world.sale(oslo, orderId, 10_000);
    browser.viewport(viewport);
    browser.signIn(bergen.token());
    browser.type("#lookup-form #orderId", orderId);
    browser.click("#lookup");
    browser.waitForText("#order-refundable", "NOK 100.00");
    browser.type("#refund-form #amount", "150.00");
    browser.type("#refund-form #reason", "Too much");
    browser.click("#refund-submit");
    browser.waitForText("#refund-status .alert.error", "REFUND_EXCEEDS_REFUNDABLE");
    assertThat(world.ledger()).noneMatch(e -> e.reference().equals(orderId));
    browser.screenshot("desk-refund-refused");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void swaggerUiRendersTheContract(Viewport viewport) {
    browser.viewport(viewport);
    browser.open("/docs/");
    browser.waitFor("#operations-refunds-requestRefund");
    browser.waitFor("#operations-clients-getCaller");
    browser.screenshot("docs");
  }

  @Test
  void everyConsoleAndDocsResponseCarriesTheSecurityHeaders()
      throws IOException, InterruptedException {
    for (String path :
        List.of(
            "/console",
            "/console/",
            "/console/js/app.js",
            "/console/console.css",
            "/console/vendor/uplot/uPlot.esm.js",
            "/console/missing.js",
            "/docs/",
            "/docs/docs.js",
            "/docs/vendor/swagger-ui-bundle.js")) {
      HttpResult result = world.broker.get(path, null);
      assertThat(result.status()).as(path).isIn(200, 301, 404);
      String csp = result.header("Content-Security-Policy");
      assertThat(csp)
          .as(path)
          .contains("script-src 'self'", "frame-ancestors 'none'", "default-src 'none'")
          .doesNotContain("unsafe-inline", "unsafe-eval");
      if (path.startsWith("/console")) {
        assertThat(csp).as(path).contains("require-trusted-types-for 'script'");
      }
      assertThat(result.header("X-Content-Type-Options")).as(path).isEqualTo("nosniff");
      assertThat(result.header("Referrer-Policy")).as(path).isEqualTo("no-referrer");
    }
    String index = world.broker.get("/console/", null).text();
    assertThat(index)
        .as("no inline script, nothing from another origin")
        .doesNotContain("<script>")
        .doesNotContain("http://")
        .doesNotContain("https://");
    HttpResponse<Void> redirect =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(world.broker.baseUrl() + "/console")).build(),
                HttpResponse.BodyHandlers.discarding());
    assertThat(redirect.statusCode()).isEqualTo(301);
    assertThat(redirect.headers().firstValue("Location")).contains("/console/");
  }
}
