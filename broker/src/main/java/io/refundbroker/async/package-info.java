/**
 * Small helpers for futures shared between Vert.x contexts ({@link
 * io.refundbroker.async.CallerContext}). A leaf: it depends on nothing of ours.
 */
package io.refundbroker.async;
