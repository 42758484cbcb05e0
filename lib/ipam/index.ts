/** lib/ipam: calling IPAM plugins (delegation through CNI_PATH) and applying their results. */
export * from './delegate'
export { DAD_SETTLE_INTERVAL_MS, DAD_SETTLE_TIMEOUT_MS, configureIface, describeIPConfig, errText, settleAddresses, ZERO_DEFAULT_ROUTE } from './configure'
