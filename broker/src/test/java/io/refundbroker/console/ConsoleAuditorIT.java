package io.refundbroker.console;

import static io.refundbroker.testing.RefundWorld.refundBody;
import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.Browser;
import io.refundbroker.testing.Browser.Viewport;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The auditor's console in real headless Chromium, at a desktop and a phone size: every page loads
 * without a JavaScript error; the refund log filters down to a known refund and its CSV (the API's
 * own export) downloads; a tampered trail turns the verdict red and names the seq; the session is
 * never offered admin pages and a request forged from it is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleAuditorIT {
  private RefundWorld world;
  private Browser browser;
  private String auditor;
  private String refundId;
  private String otherRefundId;

  @BeforeAll
  void start() {
    Browser.requireChromium();
    world = RefundWorld.start(broker -> broker.env("AUDIT_CHECKPOINT_EVERY", "5"));
    Shop oslo = world.shop("ca-oslo", "ca", "530001");
    Shop bergen = world.shop("ca-bergen", "ca", "530002");
    world.sale(oslo, "530001-order-1", 49_900);
    world.sale(bergen, "530002-order-7", 20_000);
    refundId = refunded(world.refund(bergen, "ca-1", refundBody("530001-order-1", 15_000)));
    otherRefundId = refunded(world.refund(oslo, "ca-2", refundBody("530002-order-7", 5_000)));
    auditor = world.broker.issueToken("AUDITOR", null);
    Poll.until(
        "a signed checkpoint",
        Duration.ofSeconds(20),
        () -> world.broker.database().queryLong("SELECT count(*) FROM audit_checkpoints") > 0);
    browser = Browser.start(world.broker.baseUrl());
  }

  private static String refunded(HttpResult result) {
    assertThat(result.status()).as(result.toString()).isEqualTo(201);
    return result.json().getString("refundId");
  }

  @AfterEach
  void noJavaScriptErrors() {
    assertThat(browser.javaScriptErrors()).as("errors in the browser's console").isEmpty();
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
  void everyAuditorPageLoadsAndOnlyAuditorPagesAreOffered(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(auditor);
    assertThat(browser.text("#who-role")).isEqualTo("AUDITOR");
    assertThat(browser.present("#nav-refunds")).isTrue();
    assertThat(browser.present("#nav-stores")).isFalse();
    assertThat(browser.present("#nav-clients")).isFalse();
    assertThat(browser.present("#nav-desk")).isFalse();

    browser.waitFor("#refund-table tr[data-refund-id='" + refundId + "']");
    browser.screenshot("auditor-refund-log");

    browser.page("#/trail");
    browser.waitFor("#checkpoint-table");
    assertThat(browser.text("#last-checkpoint")).startsWith("Last checkpoint:");
    assertThat(browser.text("#key-fingerprint")).matches("([0-9a-f]{2}:){31}[0-9a-f]{2}");
    browser.click("#verify-trail");
    browser.waitFor("#verdict[data-valid='true']");
    assertThat(browser.text("#verdict")).startsWith("Intact");
    browser.screenshot("auditor-trail-intact");

    browser.page("#/clearing");
    browser.type("#chainId", "ca");
    browser.type("#month", YearMonth.now(ZoneOffset.UTC).toString());
    browser.click("#show-clearing");
    browser.waitForText(
        "#clearing-matrix td[data-requesting='ca-bergen'][data-origin='ca-oslo']", "NOK 150.00");
    assertThat(
            browser.text("#clearing-matrix td[data-requesting='ca-oslo'][data-origin='ca-bergen']"))
        .isEqualTo("1 · NOK 50.00");
    assertThat(browser.text("#clearing-grand-total")).isEqualTo("2 · NOK 200.00");
    browser.screenshot("auditor-clearing");

    browser.page("#/charts");
    browser.waitFor("#chart-days canvas");
    browser.waitFor("#chart-pairs canvas");
    browser.waitForText("#pair-table", "ca-bergen → ca-oslo");
    browser.screenshot("auditor-charts");

    browser.page("#/events");
    browser.type("#action", "refund.succeeded");
    browser.click("#search-events");
    browser.waitFor("#event-table tr[data-seq]");
    assertThat(browser.all("#event-table tbody tr"))
        .hasSize(2)
        .allSatisfy(row -> assertThat(row.getText()).contains("refund.succeeded"));
    browser.click("#event-table tbody tr details summary");
    browser.waitForText("#event-table pre.json", "\"credentialsVersion\"");
    browser.screenshot("auditor-events");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void theRefundLogFiltersToAKnownRefundAndDownloadsItsCsv(Viewport viewport) throws IOException {
    browser.viewport(viewport);
    browser.signIn(auditor);
    browser.waitFor("#refund-table");
    browser.type("#orderId", "530001-order-1");
    browser.type("#requestingStoreId", "ca-bergen");
    browser
        .driver()
        .findElement(org.openqa.selenium.By.cssSelector("#status option[value='SUCCEEDED']"))
        .click();
    browser.click("#apply-filters");
    browser.waitFor("#refund-table tr[data-refund-id='" + refundId + "']");
    Poll.until(
        "only the filtered refund is listed",
        Browser.WAIT,
        () -> browser.all("#refund-table tbody tr").size() == 1);
    assertThat(browser.present("tr[data-refund-id='" + otherRefundId + "']")).isFalse();

    browser.click("#download-csv");
    Path csv = browser.download("refunds-");
    String text = Files.readString(csv, StandardCharsets.UTF_8);
    Files.delete(csv);
    assertThat(text.lines().findFirst().orElseThrow()).startsWith("refund_id,");
    assertThat(text).contains(refundId).doesNotContain(otherRefundId);
    assertThat(text.lines().count()).as(text).isEqualTo(2);
    browser.waitForText("#refund-messages", "Downloaded refunds-");
    browser.screenshot("auditor-refund-log-filtered");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aTamperedTrailShowsTheRedVerdictNamingTheSeq(Viewport viewport) throws SQLException {
    browser.viewport(viewport);
    browser.signIn(auditor);
    long seq =
        world
            .broker
            .database()
            .queryLong(
                "SELECT seq FROM audit_events WHERE action = 'refund.requested' ORDER BY seq"
                    + " LIMIT 1");
    String outcome =
        (String)
            world
                .broker
                .database()
                .query("SELECT outcome FROM audit_events WHERE seq = ?", seq)
                .get(0)
                .get("outcome");
    setOutcome(seq, "FORGED");
    try {
      browser.page("#/trail");
      browser.click("#verify-trail");
      browser.waitFor("#verdict[data-valid='false']");
      assertThat(browser.text("#verdict"))
          .startsWith("Tampered: the first bad event is seq " + seq);
      assertThat(browser.waitFor("#verdict").getAttribute("data-first-invalid-seq"))
          .isEqualTo(String.valueOf(seq));
      assertThat(browser.waitFor("#verdict").getCssValue("background-color"))
          .as("a red banner")
          .isEqualTo("rgba(253, 232, 230, 1)");
      browser.screenshot("auditor-trail-tampered");
    } finally {
      setOutcome(seq, outcome);
    }
    browser.click("#verify-trail");
    browser.waitFor("#verdict[data-valid='true']");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anAuditorSessionGetsNoAdminPageAndAForgedAdminRequestIsRefused(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(auditor);
    browser.page("#/stores");
    assertThat(browser.text("#not-allowed")).contains("not available to a AUDITOR token");
    assertThat(browser.present("#store-table")).isFalse();
    assertThat(browser.present("#nav-stores")).isFalse();

    Object status =
        browser.async(
            "const s = JSON.parse(sessionStorage.getItem('refund-broker.console.session'));"
                + "const r = await fetch('/v1/admin/stores/ca-oslo', {method: 'PATCH',"
                + " headers: {Authorization: 'Bearer ' + s.token,"
                + " 'Content-Type': 'application/json'}, body: JSON.stringify({frozen: true})});"
                + "const p = await r.json(); return r.status + ' ' + p.code;");
    assertThat(status).isEqualTo("403 FORBIDDEN");
    assertThat(
            world
                .broker
                .get("/v1/admin/stores/ca-oslo", world.broker.adminToken())
                .json()
                .getBoolean("frozen"))
        .as("the forged request changed nothing")
        .isFalse();
    browser.screenshot("auditor-admin-page-refused");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void aBadTokenShowsASignInError(Viewport viewport) {
    browser.viewport(viewport);
    browser.signedOut();
    browser.type("#token", "rb_" + "0".repeat(43));
    browser.click("#signin-submit");
    browser.waitForText("#signin-messages .alert.error", "Sign-in failed");
    assertThat(browser.text("#signin-messages")).contains("unknown or has been revoked");
    assertThat(browser.present("#who-role")).isFalse();
    assertThat(browser.driver().executeScript("return sessionStorage.length")).isEqualTo(0L);
    assertThat(browser.waitFor("#token").getAttribute("value")).isEmpty();
    browser.screenshot("signin-error");
  }

  private void setOutcome(long seq, String outcome) throws SQLException {
    AuditLinks.await(world.broker.database());
    try (Connection c = world.broker.database().ownerConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER");
      }
      try (PreparedStatement update =
          c.prepareStatement(
              "UPDATE audit_entries SET outcome = ?"
                  + " WHERE event_id = (SELECT event_id FROM audit_links WHERE seq = ?)")) {
        update.setString(1, outcome);
        update.setLong(2, seq);
        assertThat(update.executeUpdate()).isEqualTo(1);
      }
      try (Statement s = c.createStatement()) {
        s.execute("ALTER TABLE audit_entries ENABLE TRIGGER USER");
      }
      c.commit();
    }
  }
}
