package osprey4j.app.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;

/**
 * The web page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, started by the
 * test): upload the demo image, drag a box, ask about {@code <region1>} and see the answer stream in, describe all,
 * try a point without SAM and see the server's refusal. A screenshot is saved as
 * {@code target/browser/serve-page.png}. Skipped, with a message, where Chromium or its driver is not installed
 * ({@code apt-get install chromium chromium-driver}).
 */
class ServePageBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path DRIVER = Path.of("/usr/bin/chromedriver");
    static OspreyServer server;
    static ChromeDriver browser;

    @BeforeAll
    static void start() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER),
                "skipped: needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver);"
                        + " apt-get install chromium chromium-driver");
        server = OspreyServer.start(ServeFixtures.service(), null, ServerConfig.defaults("demo").withPort(0));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    /** Polls {@code condition} until it holds, failing after {@code seconds} with the page's status line. */
    void await(int seconds, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out; the page's status says: " + status());
            }
            Thread.sleep(50);
        }
    }

    String status() {
        return browser.findElement(By.id("status")).getText();
    }

    @Test
    void uploadDrawABoxAskAndWatchTheAnswer() throws Exception {
        browser.get(server.uri().toString());
        await(20, () -> browser.findElement(By.id("model-line")).getText().contains("Model demo"));
        browser.findElement(By.id("file")).sendKeys(ServeFixtures.SCENE.toAbsolutePath().normalize().toString());
        await(60, () -> status().startsWith("Image 128x128"));

        WebElement canvas = browser.findElement(By.id("canvas"));
        int w = canvas.getSize().getWidth();
        int h = canvas.getSize().getHeight();
        // Selenium offsets are from the element's centre: drag over the top-right quarter.
        new Actions(browser).moveToElement(canvas, w / 10, -h * 4 / 10).clickAndHold()
                .moveByOffset(w * 3 / 10, h * 3 / 10).release().perform();
        await(10, () -> browser.findElements(By.cssSelector("#regions li")).size() == 1);
        assertEquals("Region 1 added", status());

        WebElement question = browser.findElement(By.id("question"));
        question.clear();
        question.sendKeys("Paint a detailed verbal picture of ");
        browser.findElement(By.cssSelector("#regions li button")).click(); // inserts <region1>
        assertEquals("Paint a detailed verbal picture of <region1>", question.getAttribute("value"));
        question.sendKeys(".");
        browser.findElement(By.id("ask")).click();
        await(120, () -> status().equals("Answered") || status().startsWith("Failed")
                || status().startsWith("Refused"));
        assertEquals("Answered", status());
        List<WebElement> turns = browser.findElements(By.cssSelector("#conversation .assistant"));
        assertEquals(1, turns.size());
        String answer = turns.get(0).getText();
        assertFalse(answer.isBlank(), "the streamed answer is on the page");

        browser.findElement(By.id("describe")).click();
        await(120, () -> status().startsWith("Described 1 of 1") || status().startsWith("Failed"));
        assertFalse(browser.findElement(By.cssSelector("#regions .desc")).getText().isBlank());

        // A point without SAM: the server's refusal is shown.
        browser.findElement(By.cssSelector("input[value='point+']")).click();
        new Actions(browser).moveToElement(canvas, 0, 0).click().perform();
        browser.findElement(By.id("finish-points")).click();
        await(20, () -> status().contains("SAM"));
        assertTrue(status().contains("points need a SAM checkpoint (--sam)"), status());

        Path out = Path.of("target", "browser");
        Files.createDirectories(out);
        File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), out.resolve("serve-page.png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
