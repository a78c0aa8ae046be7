package io.refundbroker.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The contract lint of the build: {@code openapi.yaml} keeps every rule of {@link ContractLint}.
 */
class ContractLintTest {
  private static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(vertx.close());
  }

  @Test
  void theBrokersContractHasNoFinding() throws IOException {
    String yaml;
    try (InputStream in = ContractLintTest.class.getResourceAsStream("/openapi.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    assertThat(ContractLint.findings(vertx, yaml)).isEmpty();
  }

  @Test
  void everyRuleFindsItsBreach() {
    List<String> findings = ContractLint.findings(vertx, BROKEN);

    assertThat(findings)
        .anySatisfy(f -> assertThat(f).startsWith("OpenAPI 3.1 schema:"))
        .anySatisfy(f -> assertThat(f).isEqualTo("GET /a/{id}: no operationId"))
        .anySatisfy(f -> assertThat(f).isEqualTo("twice: neither x-roles nor security: []"))
        .anySatisfy(f -> assertThat(f).contains("operationId twice is used twice"))
        .anySatisfy(f -> assertThat(f).contains("x-roles names JANITOR, not a Role"))
        .anySatisfy(f -> assertThat(f).contains("public (security: []) but not an 'operations'"))
        .anySatisfy(f -> assertThat(f).contains("tag nowhere is not declared"))
        .anySatisfy(f -> assertThat(f).contains("path placeholders [id] but path parameters []"))
        .anySatisfy(f -> assertThat(f).isEqualTo("twice: no default response"))
        .anySatisfy(f -> assertThat(f).contains("404: an error response that is not"))
        .anySatisfy(f -> assertThat(f).contains("200: no content"))
        .anySatisfy(f -> assertThat(f).contains("application/x-ndjson: JSON Lines without"))
        .anySatisfy(f -> assertThat(f).contains("text/csv: a text media type whose schema is not"))
        .anySatisfy(f -> assertThat(f).contains("$ref #/components/schemas/Nothing does not"))
        .anySatisfy(f -> assertThat(f).isEqualTo("#/components/schemas/Unused is never used"))
        .anySatisfy(f -> assertThat(f).contains("requires refunds, which is not one of its"));
  }

  private static final String BROKEN =
      """
      openapi: 3.1.0
      info: {title: broken, version: '1'}
      tags: [{name: operations}]
      paths:
        /a/{id}:
          get:
            x-roles: [ADMIN]
            responses:
              '200':
                description: ok
                content:
                  application/json:
                    schema:
                      type: object
                      required: [refunds]
                      properties:
                        events: {type: array}
              default:
                $ref: '#/components/responses/Problem'
        /b:
          get:
            operationId: twice
            responses:
              '200':
                description: no content
              '404':
                description: not a problem
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Nothing'}
          post:
            operationId: twice
            x-roles: [JANITOR]
            tags: [nowhere]
            responses:
              '200':
                description: lines
                content:
                  application/x-ndjson:
                    schema: {type: string}
                  text/csv:
                    schema: {type: object}
              default:
                $ref: '#/components/responses/Problem'
          put:
            operationId: open
            security: []
            responses:
              '204': {description: done}
              default:
                $ref: '#/components/responses/Problem'
            unknownField: true
      components:
        schemas:
          Role: {type: string, enum: [ADMIN]}
          Problem: {type: object}
          Unused: {type: string}
        responses:
          Problem:
            description: a problem
            content:
              application/problem+json:
                schema: {$ref: '#/components/schemas/Problem'}
      """;
}
