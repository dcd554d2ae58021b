/**
 * Which channel plans a country allows: a subset of RP002-1.0.4 §1 "Channel
 * plan per country" (its first column, plans Maverick implements), with the
 * farming countries Maverick is for first. Plans are listed in the order the
 * table gives them; `maverick init --country` proposes the first.
 */
import type { PlanId } from './types.js';

const COUNTRY_PLANS: Record<string, readonly PlanId[]> = {
  // South and Central America: soy, beef, coffee, cocoa.
  AR: ['AU915'],
  BO: ['AU915'],
  BR: ['AU915'],
  CL: ['AU915'],
  CO: ['AU915'],
  CR: ['AU915', 'US915'],
  EC: ['AU915'],
  GT: ['AU915', 'US915'],
  HN: ['AU915', 'US915'],
  NI: ['AU915', 'US915'],
  PA: ['AU915', 'US915'],
  PE: ['AU915', 'AS923-1'],
  PY: ['AU915'],
  SV: ['AU915', 'US915'],
  UY: ['AU915'],
  VE: ['AU915'],
  MX: ['US915'],
  US: ['US915'],
  CA: ['US915'],
  // Australia and Oceania.
  AU: ['AU915', 'AS923-1'],
  NZ: ['AU915', 'AS923-1'],
  PG: ['AU915', 'AS923-1'],
  // Asia: palm oil, rubber, coffee.
  ID: ['AS923-2'],
  MY: ['AS923-1'],
  VN: ['AS923-2'],
  TH: ['AS923-1'],
  PH: ['AS923-3'],
  KH: ['AS923-1'],
  LA: ['AS923-1'],
  MM: ['AS923-1'],
  JP: ['AS923-1'],
  TW: ['AS923-1'],
  SG: ['AS923-1'],
  BN: ['AS923-1'],
  LK: ['AS923-1'],
  IL: ['AS923-4'],
  IN: ['IN865'],
  KR: ['KR920'],
  // Africa and Europe: cocoa, coffee, timber.
  CI: ['EU868'],
  GH: ['EU868'],
  CM: ['EU868'],
  NG: ['EU868'],
  LR: ['EU868'],
  SL: ['EU868'],
  TG: ['EU868'],
  ET: ['EU868'],
  KE: ['EU868'],
  UG: ['EU868'],
  TZ: ['EU868', 'AS923-1'],
  CD: ['EU868'],
  ZA: ['EU868'],
  DE: ['EU868'],
  FR: ['EU868'],
  ES: ['EU868'],
  IT: ['EU868'],
  NL: ['EU868'],
  BE: ['EU868'],
  PT: ['EU868'],
  GB: ['EU868'],
  IE: ['EU868'],
  AT: ['EU868'],
  CH: ['EU868'],
  PL: ['EU868'],
  SE: ['EU868'],
  DK: ['EU868'],
  FI: ['EU868'],
  NO: ['EU868'],
};

export interface CountryPlans {
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
  plans: readonly PlanId[];
}

/** The plans an ISO 3166-1 alpha-2 country allows (any case), or undefined when the table does not list it. */
export function plansForCountry(code: string): CountryPlans | undefined {
  const country = code.trim().toUpperCase();
  const plans = Object.hasOwn(COUNTRY_PLANS, country) ? COUNTRY_PLANS[country] : undefined;
  return plans ? { country, plans } : undefined;
}

/** Every listed country code, for hints and tests. */
export function knownCountries(): string[] {
  return Object.keys(COUNTRY_PLANS);
}
