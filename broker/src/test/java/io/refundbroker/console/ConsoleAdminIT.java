package io.refundbroker.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.testing.Browser;
import io.refundbroker.testing.Browser.Viewport;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.RefundWorld;
import io.refundbroker.testing.RefundWorld.Shop;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The security admin's console in real headless Chromium, at a desktop and a phone size: stores
 * with their key version and age, enrolment and editing, freeze then unfreeze, key rotation proved
 * against the sandbox (version n+1, and none of the submitted secret left in the page's DOM or
 * storage), rollback, and issuing and revoking a client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleAdminIT {
  private RefundWorld world;
  private Browser browser;
  private Shop oslo;

  @BeforeAll
  void start() {
    Browser.requireChromium();
    world = RefundWorld.start();
    oslo = world.shop("cc-oslo", "cc", "540001");
    world.shop("cc-bergen", "cc", "540002");
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
  void everyAdminPageLoadsAndShowsTheStoresKeys(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(world.broker.adminToken());
    assertThat(browser.text("#who-role")).isEqualTo("ADMIN");
    assertThat(browser.present("#nav-stores")).isTrue();
    assertThat(browser.present("#nav-clients")).isTrue();
    assertThat(browser.present("#nav-refunds")).isFalse();
    assertThat(browser.present("#nav-desk")).isFalse();

    browser.waitFor("#store-table tr[data-store-id='cc-oslo']");
    assertThat(browser.text("#store-table tr[data-store-id='cc-oslo'] td.keys"))
        .matches("v\\d+ · 0 d");
    assertThat(browser.text("#store-table tr[data-store-id='cc-oslo']")).contains("540001", "cc");
    browser.screenshot("admin-stores");

    browser.page("#/store/cc-oslo");
    browser.waitFor("#version-table");
    assertThat(browser.text("#store-msn")).isEqualTo("540001");
    browser.screenshot("admin-store");

    browser.page("#/clients");
    browser.waitFor("#client-table");
    browser.screenshot("admin-clients");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anAdminEnrolsAndEditsAStore(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(world.broker.adminToken());
    String storeId = "cc-new-" + viewport.name().toLowerCase(Locale.ROOT);
    browser.click("#new-store");
    browser.type("#store-form #storeId", storeId);
    browser.type("#store-form #name", "New " + viewport);
    browser.type("#store-form #msn", viewport == Viewport.DESKTOP ? "540101" : "540102");
    browser.type("#store-form #chainId", "cc");
    browser.click("#create-store");
    browser.waitForText("#store-head h1", "New " + viewport);

    browser.type("#edit-form #name", "Renamed " + viewport);
    browser.type("#edit-form #perRefund", "500.00");
    browser
        .driver()
        .findElement(
            org.openqa.selenium.By.cssSelector("#edit-form #limitCurrency option[value='NOK']"))
        .click();
    browser.click("#save-store");
    browser.waitForText("#store-messages", "Saved Renamed " + viewport);
    JsonObject store =
        world.broker.get("/v1/admin/stores/" + storeId, world.broker.adminToken()).json();
    assertThat(store.getString("name")).isEqualTo("Renamed " + viewport);
    assertThat(store.getJsonObject("limits").getLong("perRefund")).isEqualTo(50_000);
    browser.screenshot("admin-store-edited");
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anAdminFreezesThenUnfreezesAStoreAfterConfirming(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(world.broker.adminToken());
    browser.page("#/store/cc-bergen");
    browser.click("#freeze");
    browser.waitFor("#confirm");
    browser.screenshot("admin-freeze-confirm");
    browser.click("#confirm-cancel");
    assertThat(frozen("cc-bergen")).as("cancelled: nothing changed").isFalse();

    browser.clickAndConfirm("#freeze");
    browser.waitFor("#unfreeze");
    assertThat(browser.text("#store-head")).contains("FROZEN");
    assertThat(frozen("cc-bergen")).isTrue();
    browser.screenshot("admin-store-frozen");

    browser.clickAndConfirm("#unfreeze");
    browser.waitFor("#freeze");
    assertThat(frozen("cc-bergen")).isFalse();
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anAdminRotatesKeysAgainstTheSandboxAndNoSecretStaysInThePage(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(world.broker.adminToken());
    int before = currentVersion(oslo.storeId());
    StoreCredentials next = world.vipps.rotate(oslo.msn(), before + 1);
    String secret = next.clientSecret().reveal();
    String subscriptionKey = next.subscriptionKey().reveal();

    browser.page("#/store/" + oslo.storeId());
    browser.waitFor("#rotate-form");
    browser.type("#clientId", next.clientId());
    browser.type("#clientSecret", secret);
    browser.type("#subscriptionKey", subscriptionKey);
    browser.click("#rotate-submit");
    browser.waitForText("#store-messages", "Stored as version " + (before + 1));
    browser.waitFor("#version-table tr[data-version='" + (before + 1) + "']");
    assertThat(browser.text("#current-version")).contains("v" + (before + 1));
    assertThat(currentVersion(oslo.storeId())).isEqualTo(before + 1);
    assertThat(world.vipps.requestsTo("/accesstoken/get"))
        .as("the keys were proved with Vipps")
        .anySatisfy(r -> assertThat(r.header("client_id")).contains(next.clientId()));

    String everything = browser.pageAndStorage();
    assertThat(everything).doesNotContain(secret).doesNotContain(subscriptionKey);
    assertThat(browser.waitFor("#clientSecret").getAttribute("value")).isEmpty();
    assertThat(browser.waitFor("#clientSecret").getAttribute("autocomplete")).isEqualTo("off");
    browser.screenshot("admin-keys-rotated");

    // roll back to the keys before (every run starts from the store's first keys): Vipps takes
    // them again, as after undoing a change in the Vipps portal
    world.vipps.register(oslo.keys());
    browser.clickAndConfirm("#rollback-" + before);
    browser.waitForText(
        "#store-messages", "version " + (before + 2) + " now holds the keys of version " + before);
    assertThat(currentVersion(oslo.storeId())).isEqualTo(before + 2);
  }

  @ParameterizedTest
  @EnumSource(Viewport.class)
  void anAdminIssuesAClientSeesItsTokenOnceAndRevokesIt(Viewport viewport) {
    browser.viewport(viewport);
    browser.signIn(world.broker.adminToken());
    browser.page("#/clients");
    browser.waitFor("#client-table");
    String name = "till-" + viewport.name().toLowerCase(Locale.ROOT);
    browser.type("#client-form #name", name);
    browser.waitFor("#client-form #storeId option[value='cc-oslo']").click();
    browser.click("#issue-client");
    String token = browser.text("#issued-token");
    assertThat(token).startsWith("rb_");
    HttpResult me = world.broker.get("/v1/me", token);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.json().getString("storeId")).isEqualTo("cc-oslo");
    String clientId = me.json().getString("clientId");
    browser.screenshot("admin-client-issued");

    browser.click("#token-done");
    browser.waitUntilGone("#token-once");
    assertThat(browser.pageAndStorage()).as("the token is shown once").doesNotContain(token);

    browser.clickAndConfirm("#revoke-" + clientId);
    browser.waitForText("#client-table tr[data-client-id='" + clientId + "']", "revoked");
    assertThat(world.broker.get("/v1/me", token).status()).isEqualTo(401);
  }

  private int currentVersion(String storeId) {
    return world
        .broker
        .get("/v1/admin/stores/" + storeId + "/credentials", world.broker.adminToken())
        .json()
        .getInteger("currentVersion");
  }

  private boolean frozen(String storeId) {
    return world
        .broker
        .get("/v1/admin/stores/" + storeId, world.broker.adminToken())
        .json()
        .getBoolean("frozen");
  }
}
