/**
 * A deployed stack's outputs, by output key, read with the real
 * `@aws-sdk/client-cloudformation`: how `npm run redrive -- --aws` and `npm run smoke` find
 * what `cdk deploy` made (queue names, URLs, the topic) without being told.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export type StackOutputs = Record<string, string>;

export async function readStackOutputs(
  stackName: string,
  client: CloudFormationClient = new CloudFormationClient({}),
): Promise<StackOutputs> {
  const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  const [stack] = Stacks;
  if (stack === undefined) throw new Error(`stack ${stackName} was not found`);
  const outputs: StackOutputs = {};
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey && output.OutputValue !== undefined) {
      outputs[output.OutputKey] = output.OutputValue;
    }
  }
  return outputs;
}

/** The output `key`, or an error naming the stack and what it lacks. */
export function requireOutput(outputs: StackOutputs, key: string, stackName: string): string {
  const value = outputs[key];
  if (value === undefined) throw new Error(`stack ${stackName} has no output ${key}`);
  return value;
}
