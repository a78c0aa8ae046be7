package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;

/** Assertions on {@code application/problem+json} responses. */
public final class ProblemAssert {
  private ProblemAssert() {}

  /** The response is a complete problem with this status and code. */
  public static JsonObject assertProblem(HttpResult result, int status, String code) {
    assertThat(result.status()).as(result.toString()).isEqualTo(status);
    assertThat(result.header("Content-Type")).isEqualTo("application/problem+json");
    JsonObject problem = result.json();
    assertThat(problem.getString("code")).as(result.toString()).isEqualTo(code);
    assertThat(problem.getInteger("status")).isEqualTo(status);
    assertThat(problem.getString("type")).isNotBlank();
    assertThat(problem.getString("title")).isNotBlank();
    assertThat(problem.getString("detail")).isNotBlank();
    assertThat(problem.getString("requestId")).isEqualTo(result.header("X-Request-Id"));
    assertThat(result.text()).doesNotContain("Exception").doesNotContain("\tat ");
    return problem;
  }
}
