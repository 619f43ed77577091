// Lint rules the test command enforces (npm run lint): ESLint's and typescript-eslint's
// recommended rules for every TypeScript file of the project.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "dist/", "agent/dist/", "reports/", "toolchain/"] },
    { files: ["**/*.ts"], extends: [js.configs.recommended, ...tseslint.configs.recommended] },
    {
        files: ["**/*.ts"],
        rules: {
            // Unused arguments and destructured rest siblings are fine when prefixed with "_".
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
        },
    },
    {
        // Tests handle loosely typed data (mocked resource inputs, JSON answers) on purpose.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
