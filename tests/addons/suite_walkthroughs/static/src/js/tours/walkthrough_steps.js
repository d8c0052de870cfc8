/** @odoo-module */

// Steps shared by the README walkthroughs: open a menu by its names, search, take a screenshot.

/**
 * Open an app from the home menu, then a menu (and sub-menu) by their names; a last argument
 * {opened: trigger} says how to recognise the screen when its title is not the menu's name.
 */
export function openMenu(app, ...path) {
    const opened = typeof path.at(-1) === "object" ? path.pop().opened : null;
    const steps = [
        {
            content: "Open the home menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: `Open ${app}`,
            trigger: `.o_app:contains('${app}')`,
            run: "click",
        },
    ];
    path.forEach((name, index) => {
        const last = index === path.length - 1;
        steps.push({
            content: `Open ${name}`,
            trigger: index === 0
                ? `.o_menu_sections .dropdown-toggle:contains('${name}'), .o_menu_sections .o_nav_entry:contains('${name}')`
                : `.dropdown-menu .dropdown-item:contains('${name}')`,
            run: "click",
        });
        if (last) {
            steps.push({
                content: `${name} is open`,
                trigger:
                    opened ||
                    `.o_breadcrumb:contains('${name}'), .modal-title:contains('${name}')`,
            });
        }
    });
    return steps;
}

/** Type a search and apply it. */
export function search(text) {
    return [
        { content: `Search ${text}`, trigger: ".o_searchview_input", run: `edit ${text}` },
        { content: "Apply the search", trigger: ".o_searchview_input", run: "press Enter" },
        {
            content: "The search is applied",
            trigger: `.o_searchview_facet:contains('${text}')`,
        },
    ];
}

/** A screenshot of the page as it is (docs/screenshots/<name>.png, see tests/screenshots.py). */
export function screenshot(name, trigger = "body") {
    return {
        content: `Screenshot ${name}`,
        trigger,
        run: async () => {
            // Let the page settle (fonts, lazy widgets), then ask and leave time to capture.
            await new Promise((resolve) => setTimeout(resolve, 400));
            console.log(`screenshot:${name}`);
            await new Promise((resolve) => setTimeout(resolve, 600));
        },
    };
}
