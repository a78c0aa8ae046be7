/**
 * What a sales unit is, as every feature may name it: the Vipps API flavour ({@link
 * io.refundbroker.salesunit.VippsApi}), whose keys a key set is ({@link
 * io.refundbroker.salesunit.KeyHolder}), one version of those keys ({@link
 * io.refundbroker.salesunit.VippsKeys}) and the key set a call uses ({@link
 * io.refundbroker.salesunit.KeysInUse}). A leaf: it depends on nothing of ours but {@code config}.
 */
package io.refundbroker.salesunit;
