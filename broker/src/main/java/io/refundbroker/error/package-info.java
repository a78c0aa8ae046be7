/**
 * The error family every feature fails its futures with: {@link
 * io.refundbroker.error.ProblemException}, an HTTP status plus a stable machine-readable code. A
 * leaf: it depends on nothing of ours; {@code http} renders it as {@code application/problem+json}.
 */
package io.refundbroker.error;
