package io.refundbroker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.slf4j.LoggerFactory;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}) driven through
 * chromedriver by Selenium, for the console's browser tests: one per test class, a fresh profile
 * and download folder each, no network but the broker (background networking off). Waits are
 * explicit ({@link WebDriverWait}); nothing sleeps.
 *
 * <p>Without Chromium the tests are skipped with a message on a developer's machine, and fail under
 * {@code CI=true} ({@code .ci/run} installs the packages).
 */
public final class Browser implements AutoCloseable {
  /** The two screen sizes every browser test runs at. */
  public enum Viewport {
    DESKTOP(1280, 800, false),
    PHONE(390, 844, true);

    public final int width;
    public final int height;
    public final boolean mobile;

    Viewport(int width, int height, boolean mobile) {
      this.width = width;
      this.height = height;
      this.mobile = mobile;
    }
  }

  public static final Duration WAIT = Duration.ofSeconds(20);
  private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

  private final ChromeDriver driver;
  private final Path profile;
  private final Path downloads;
  private final String baseUrl;
  private final List<String> consoleErrors = new ArrayList<>();
  private Viewport viewport = Viewport.DESKTOP;

  private Browser(ChromeDriver driver, Path profile, Path downloads, String baseUrl) {
    this.driver = driver;
    this.profile = profile;
    this.downloads = downloads;
    this.baseUrl = baseUrl;
  }

  private static final Path CHROMIUM =
      Path.of(System.getenv().getOrDefault("CHROMIUM_BINARY", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER =
      Path.of(System.getenv().getOrDefault("CHROMEDRIVER", "/usr/bin/chromedriver"));

  /**
   * Skips the calling test class (with a warning) when Chromium or chromedriver is missing, or
   * fails it under {@code CI=true}. Call it first in {@code @BeforeAll}, before starting a broker.
   */
  public static void requireChromium() {
    if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
      return;
    }
    String message =
        "the browser tests need Chromium and chromedriver ("
            + CHROMIUM
            + ", "
            + CHROMEDRIVER
            + "): apt-get install chromium chromium-driver";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new AssertionError(message);
    }
    LoggerFactory.getLogger(Browser.class).warn("skipping browser tests: {}", message);
    Assumptions.abort("skipped: " + message);
  }

  /** Starts Chromium for pages of {@code baseUrl}, or skips/fails when it is not installed. */
  public static Browser start(String baseUrl) {
    requireChromium();
    Path chromium = CHROMIUM;
    Path chromedriver = CHROMEDRIVER;
    try {
      Path profile = Files.createTempDirectory("rb-chromium-profile");
      Path downloads = Files.createTempDirectory("rb-chromium-downloads");
      ChromeOptions options = new ChromeOptions();
      options.setBinary(chromium.toFile());
      options.addArguments(
          "--headless=new",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-dev-shm-usage",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          "--no-default-browser-check",
          "--disable-extensions",
          "--disable-features=Translate,OptimizationHints,MediaRouter,PasswordLeakDetection",
          "--password-store=basic",
          "--window-size=1280,800",
          "--user-data-dir=" + profile);
      options.setExperimentalOption(
          "prefs",
          Map.of(
              "download.default_directory", downloads.toString(),
              "download.prompt_for_download", false,
              "credentials_enable_service", false,
              "profile.password_manager_enabled", false));
      options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
      ChromeDriverService service =
          new ChromeDriverService.Builder()
              .usingDriverExecutable(chromedriver.toFile())
              .usingAnyFreePort()
              .build();
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().pageLoadTimeout(WAIT).scriptTimeout(WAIT);
      return new Browser(driver, profile, downloads, baseUrl);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public ChromeDriver driver() {
    return driver;
  }

  /** Sets the page's size (device metrics, so the layout sees exactly this viewport). */
  public void viewport(Viewport size) {
    this.viewport = size;
    driver.executeCdpCommand(
        "Emulation.setDeviceMetricsOverride",
        Map.of(
            "width", size.width,
            "height", size.height,
            "deviceScaleFactor", 1,
            "mobile", size.mobile));
  }

  public Viewport viewport() {
    return viewport;
  }

  /** Opens {@code path} of the broker (e.g. {@code /console/}). */
  public void open(String path) {
    driver.get(baseUrl + path);
  }

  /** Forgets the session (sessionStorage) and opens the console's sign-in page. */
  public void signedOut() {
    open("/console/");
    driver.executeScript("sessionStorage.clear(); localStorage.clear();");
    open("/console/#/signin");
    waitFor("#token");
  }

  /** Signs in through the page with {@code token} and waits for the role's first page. */
  public void signIn(String token) {
    signedOut();
    type("#token", token);
    click("#signin-submit");
    waitFor("#who-role");
  }

  /** Opens a console page ({@code #/refunds} …) of the signed-in session. */
  public void page(String hash) {
    driver.get(baseUrl + "/console/" + hash);
  }

  public WebElement waitFor(String css) {
    return new WebDriverWait(driver, WAIT)
        .until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
  }

  public void waitForText(String css, String text) {
    new WebDriverWait(driver, WAIT)
        .withMessage(() -> css + " never contained '" + text + "'; it shows: " + textOrNone(css))
        .until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector(css), text));
  }

  public void waitUntilGone(String css) {
    new WebDriverWait(driver, WAIT)
        .until(ExpectedConditions.invisibilityOfElementLocated(By.cssSelector(css)));
  }

  public List<WebElement> all(String css) {
    return driver.findElements(By.cssSelector(css));
  }

  public boolean present(String css) {
    return !all(css).isEmpty();
  }

  public String text(String css) {
    return waitFor(css).getText();
  }

  /** The element's text; when there is none, what the page's main area shows (to say why). */
  private String textOrNone(String css) {
    List<WebElement> found = all(css);
    if (!found.isEmpty()) {
      return found.get(0).getText();
    }
    List<WebElement> main = all("#main");
    String shown = main.isEmpty() ? "" : main.get(0).getText().replaceAll("\\s+", " ");
    return "(nothing; the page shows: "
        + (shown.length() > 400 ? shown.substring(0, 400) + "…" : shown)
        + ")";
  }

  public void type(String css, String text) {
    WebElement field = waitFor(css);
    field.clear();
    field.sendKeys(text);
  }

  public void click(String css) {
    WebElement element =
        new WebDriverWait(driver, WAIT)
            .until(ExpectedConditions.elementToBeClickable(By.cssSelector(css)));
    driver.executeScript("arguments[0].scrollIntoView({block: 'center'});", element);
    element.click();
  }

  /** Clicks {@code css}, then confirms the console's confirmation dialog. */
  public void clickAndConfirm(String css) {
    click(css);
    click("#confirm-ok");
    waitUntilGone("#confirm");
  }

  /** Runs {@code script} in the page (an async function body: {@code return await …}). */
  public Object async(String script) {
    return ((JavascriptExecutor) driver)
        .executeAsyncScript(
            "const done = arguments[arguments.length - 1];"
                + "(async () => {"
                + script
                + "})().then(done, (e) => done('error: ' + e));");
  }

  /** Everything a page holds: its DOM (with form field values) and its storage. */
  public String pageAndStorage() {
    return String.valueOf(
        driver.executeScript(
            "const values = [...document.querySelectorAll('input, textarea, select')]"
                + ".map((e) => e.value).join('\\n');"
                + "return document.documentElement.outerHTML + '\\n' + values + '\\n'"
                + " + JSON.stringify(Object.assign({}, sessionStorage))"
                + " + JSON.stringify(Object.assign({}, localStorage)) + document.cookie;"));
  }

  /**
   * JavaScript errors (and CSP violations) the browser logged since the last call, excluding failed
   * HTTP responses the pages handle themselves (a 401 at sign-in, a 403 on purpose).
   */
  public List<String> javaScriptErrors() {
    for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
      if (entry.getLevel().intValue() >= Level.SEVERE.intValue()
          && !entry.getMessage().contains("Failed to load resource: the server responded")) {
        consoleErrors.add(entry.getMessage());
      }
    }
    List<String> errors = List.copyOf(consoleErrors);
    consoleErrors.clear();
    return errors;
  }

  /** Saves a screenshot as {@code target/console-screenshots/<viewport>/<name>.png}. */
  public Path screenshot(String name) {
    try {
      Path dir = SCREENSHOTS.resolve(viewport.name().toLowerCase());
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".png");
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The folder downloads land in. */
  public Path downloads() {
    return downloads;
  }

  /** Waits for a finished download whose name starts with {@code prefix} and returns it. */
  public Path download(String prefix) {
    return Poll.value(
        "a download named " + prefix + "…",
        WAIT,
        () -> {
          try (Stream<Path> files = Files.list(downloads)) {
            return files
                .filter(p -> p.getFileName().toString().startsWith(prefix))
                .filter(p -> !p.getFileName().toString().endsWith(".crdownload"))
                .findFirst()
                .orElse(null);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      deleteQuietly(profile);
      deleteQuietly(downloads);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // a temp folder left behind is harmless
    }
  }
}
