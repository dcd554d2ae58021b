/**
 * `maverick init --country CC`: the region plan a country's farms use, from
 * RP002-1.0.4's country table (proto/regions/countries.ts), and a sentence for
 * the technician saying what was chosen and what else the country allows.
 */
import { ErrorCode, MaverickError } from '../../proto/errors.js';
import { knownCountries, plansForCountry, regionIdOf } from '../../proto/regions/index.js';

export interface CountryChoice {
  /** The plan to configure, or undefined when --region decides. */
  region: string | undefined;
  note: string;
}

/** The plan for `country`; an explicit `region` wins and is only checked against the table. */
export function regionForCountry(country: string, region?: string): CountryChoice {
  const found = plansForCountry(country);
  if (!found) {
    throw new MaverickError(
      ErrorCode.ConfigInvalid,
      `--country ${JSON.stringify(country)} is not in Maverick's RP002 country table`,
      {
        hint: `give the plan with --region (e.g. --region AU915), or one of these ISO 3166 alpha-2 codes: ${knownCountries().join(' ')}`,
      },
    );
  }
  const { plans } = found;
  const list = plans.join(', ');
  if (region !== undefined) {
    const plan = regionIdOf(region)?.replace(/-SB\d$/, '');
    const note = plans.some((p) => p === plan)
      ? `${found.country} allows ${list}; using --region ${region}.`
      : `warning: ${found.country} lists ${list} in RP002, not ${region}; using --region ${region} as asked.`;
    return { region: undefined, note };
  }
  const [first] = plans;
  const note =
    plans.length > 1
      ? `${found.country} allows several plans: ${list}. Using ${first}; pass --region to pick another.`
      : `${found.country} uses ${first} (RP002-1.0.4 country table).`;
  return { region: first, note };
}
